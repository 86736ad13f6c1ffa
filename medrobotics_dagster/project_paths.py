"""Where the repository's own files are: the dbt project and the instance template (no imports of weight)."""

import os
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = REPOSITORY_ROOT / "sql"
# dbt's target folder (manifest, parse state, compiled queries): dbt's own DBT_TARGET_PATH, relative to the project,
# else sql/target. Test runs in parallel give each process its own.
DBT_TARGET_DIR = SQL_DIR / os.environ.get("DBT_TARGET_PATH", "target")
# What dbt reads: a change to any of these makes the parsed manifest (and compiled queries) stale.
DBT_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "snapshots", "macros", "tests", "analyses")


def dbt_project_changed_since(mtime: float) -> bool:
    """Whether any file of the dbt project was modified after `mtime` (seconds since the epoch)."""
    for name in DBT_SOURCES:
        path = SQL_DIR / name
        files = path.rglob("*") if path.is_dir() else [path]
        if any(f.is_file() and f.stat().st_mtime > mtime for f in files):
            return True
    return False
