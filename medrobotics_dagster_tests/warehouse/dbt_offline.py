"""The dbt project compiled without a database: Jinja rendered with the project's macros for a target
(`dbt compile --inline`), and the whole project compiled for Redshift."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from medrobotics_dagster.defs.warehouse.dbt_environment import dbt_connection_env

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
# Never contacted: --no-introspect compiles without a connection.
OFFLINE_URLS = {
    "redshift": "redshift://ci:unused@redshift.invalid/medrobotics_dw",
    "postgres": "postgresql://ci:unused@postgres.invalid/medrobotics_warehouse",
}


def render_inline(jinja: str, target: str, work_dir: Path, env: dict[str, str] | None = None) -> str:
    """What the Jinja renders to for the target (the project's macros, vars, flags and graph in scope)."""
    process_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MEDROBOTICS_DBT_", "MEDROBOTICS_ANALYST"))},
        **dbt_connection_env(OFFLINE_URLS[target], target),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **(env or {}),
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "compile",
            "--target",
            target,
            "--quiet",
            "--no-introspect",
            "--no-populate-cache",
            "--no-partial-parse",
            "--project-dir",
            str(SQL_DIR),
            "--profiles-dir",
            str(SQL_DIR),
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
            "--inline",
            jinja,
        ],
        env=process_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt compile --inline failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def compile_for_redshift(project_dir: Path, work_dir: Path) -> dict:
    """`dbt compile --target redshift` without a cluster; returns the manifest."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MEDROBOTICS_DBT_")},
        **dbt_connection_env(OFFLINE_URLS["redshift"], "redshift"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    target = work_dir / "target"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "compile",
            "--target",
            "redshift",
            "--no-introspect",
            "--no-populate-cache",
            "--no-partial-parse",
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(SQL_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(work_dir / "logs"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt compile failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads((target / "manifest.json").read_text())
