"""The dbt project under sql/, as dagster-dbt sees it."""

from pathlib import Path

from dagster_dbt import DbtProject

SQL_DIR = Path(__file__).resolve().parents[3] / "sql"

dbt_project = DbtProject(project_dir=SQL_DIR, profiles_dir=SQL_DIR)


def ensure_manifest() -> Path:
    """`dagster dev` re-parses on change; every other entry point parses once, only when no manifest exists yet."""
    dbt_project.prepare_if_dev()
    if not dbt_project.manifest_path.exists():
        dbt_project.preparer.prepare(dbt_project)
    return dbt_project.manifest_path
