"""dbt's macros, loaded once per process (until a macro file changes) for the adapter dagster-dbt opens per dbt step.

dagster-dbt opens a dbt adapter inside Dagster's process for every `dbt.cli(...)` call (it queries each model's
columns through it) and parses the macros of dbt, its adapter and this project from disk each time: 1.6 s of every
dbt step (py-spy of a `demo`: `ManifestLoader.load_macros` under `DbtCliResource._initialize_dbt_core_adapter`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dbt.parser.manifest import ManifestLoader

_ORIGINAL = ManifestLoader.__dict__["load_macros"]  # the classmethod itself, restored as it was
_load_macros = ManifestLoader.load_macros
_loaded: dict[tuple, Any] = {}
_lock = threading.Lock()


def _macro_files_version(root_config) -> float:
    """The newest modification time of the project's macro files (their edits must be seen)."""
    root = Path(root_config.project_root)
    files = [f for d in root_config.macro_paths for f in (root / d).rglob("*.sql")]
    return max((f.stat().st_mtime for f in files), default=0.0)


def _load_macros_once(root_config, macro_hook, base_macros_only: bool = False):
    if not base_macros_only:  # a full project load (dbt's own commands): not what dagster-dbt asks for
        return _load_macros(root_config, macro_hook, base_macros_only=base_macros_only)
    key = (root_config.credentials.type, root_config.project_root, _macro_files_version(root_config))
    with _lock:
        if key not in _loaded:
            _loaded.clear()
            _loaded[key] = _load_macros(root_config, macro_hook, base_macros_only=True)
        return _loaded[key]


@contextmanager
def macros_loaded_once() -> Iterator[None]:
    """Within the block, dagster-dbt's `ManifestLoader.load_macros(..., base_macros_only=True)` answers from memory."""
    ManifestLoader.load_macros = staticmethod(_load_macros_once)
    try:
        yield
    finally:
        ManifestLoader.load_macros = _ORIGINAL
