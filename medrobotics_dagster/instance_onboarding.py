"""The Dagster UI's first-visit dialog ("Join the Dagster community"), marked as seen for our own instance directory.

The webserver shows it while `<DAGSTER_HOME>/.nux/nux.yaml` does not exist (dagster._core.nux, read by the
GraphQL field `shouldShowNux`); dismissing it in the UI writes the same file.
"""

from pathlib import Path

import yaml
from dagster._core.nux import NUX_FILE_STR

NUX_DIR = ".nux"  # the folder dagster._core.nux.nux_seen_filepath() creates under DAGSTER_HOME


def onboarding_marker(home: Path) -> Path:
    return home / NUX_DIR / NUX_FILE_STR


def mark_onboarding_seen(home: Path) -> Path:
    """Write the UI's "seen" marker under the instance directory `home` (kept as it is when already there)."""
    marker = onboarding_marker(home)
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(yaml.safe_dump({"seen": 1}), encoding="utf8")
    return marker
