"""What a change of the dbt project leaves, without touching it: dbt's state in a target folder dated to 1970."""

from __future__ import annotations

import os
from pathlib import Path

from medrobotics_dagster.project_paths import DBT_TARGET_DIR

BEFORE_EVERY_CHANGE = 1_000_000  # seconds since the epoch: 1970, older than every file of sql/


def age_dbt_state(target: Path = DBT_TARGET_DIR) -> None:
    """Date the parse states, manifests and compiled queries under `target` before the project's last change."""
    for path in target.rglob("*"):
        if path.is_file() and (path.suffix in (".msgpack", ".sql") or path.name == "manifest.json"):
            os.utime(path, (BEFORE_EVERY_CHANGE, BEFORE_EVERY_CHANGE))
