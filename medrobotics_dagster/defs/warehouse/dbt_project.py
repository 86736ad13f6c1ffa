"""The dbt project under sql/, as dagster-dbt sees it."""

import os
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

SQL_DIR = Path(__file__).resolve().parents[3] / "sql"
DBT_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "snapshots", "macros", "tests", "analyses")

dbt_project = DbtProject(project_dir=SQL_DIR, profiles_dir=SQL_DIR)


def put_dbt_on_path() -> None:
    """dagster-dbt runs `dbt` from PATH; a virtualenv used without activation has it only beside its Python."""
    bin_dir = Path(sys.executable).parent
    path = os.environ.get("PATH", "")
    if (bin_dir / "dbt").exists() and str(bin_dir) not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([str(bin_dir), path]) if path else str(bin_dir)


def dbt_cli_resource() -> DbtCliResource:
    put_dbt_on_path()
    return DbtCliResource(project_dir=dbt_project)


def manifest_is_stale() -> bool:
    """No manifest yet, or a dbt file changed after it was written."""
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    written = manifest.stat().st_mtime
    for name in DBT_SOURCES:
        path = SQL_DIR / name
        files = path.rglob("*") if path.is_dir() else [path]
        if any(f.is_file() and f.stat().st_mtime > written for f in files):
            return True
    return False


def ensure_manifest() -> Path:
    """`dagster dev` re-parses itself; elsewhere (CLI, tests, CI) parse only when the manifest is missing or stale."""
    put_dbt_on_path()
    dbt_project.prepare_if_dev()
    if manifest_is_stale():
        dbt_project.preparer.prepare(dbt_project)
    return dbt_project.manifest_path
