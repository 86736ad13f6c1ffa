"""The dbt project under sql/, as dagster-dbt sees it."""

import fcntl
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Mapping

from dagster_dbt import DbtCliResource, DbtProject

SQL_DIR = Path(__file__).resolve().parents[3] / "sql"
DBT_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "snapshots", "macros", "tests", "analyses")
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# The connection settings target/partial_parse.msgpack was written with (no password): dbt refuses a partial
# parse when the profile it renders differs, and re-parses the whole project on every invocation.
PARSE_PROFILE_FILE = "medrobotics_parse_profile.json"

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


def manifest_database() -> str:
    """The warehouse database the manifest's relation names should carry (dagster-dbt's column metadata queries
    them): the configured URL's, else the embedded warehouse's (sql/profiles.yml's default)."""
    from urllib.parse import urlsplit

    url = os.environ.get("MEDROBOTICS_WAREHOUSE_URL", "").strip()
    return os.environ.get("MEDROBOTICS_DBT_DBNAME") or (urlsplit(url).path.strip("/") if url else "") or "medrobotics_warehouse"


def ensure_manifest() -> Path:
    """`dagster dev` re-parses itself; elsewhere (CLI, tests, CI) parse only when the manifest is missing or stale
    (or was parsed for another warehouse database)."""
    put_dbt_on_path()
    database = manifest_database()
    saved = os.environ.get("MEDROBOTICS_DBT_DBNAME")
    os.environ["MEDROBOTICS_DBT_DBNAME"] = database
    target = Path(dbt_project.project_dir) / dbt_project.target_path
    target.mkdir(parents=True, exist_ok=True)
    try:
        with open(target / ".medrobotics_manifest.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # processes starting together (dagster dev, run workers) parse once
            dbt_project.prepare_if_dev()
            if manifest_is_stale() or _manifest_database() != database:
                dbt_project.preparer.prepare(dbt_project)
    finally:
        if saved is None:
            os.environ.pop("MEDROBOTICS_DBT_DBNAME", None)
        else:
            os.environ["MEDROBOTICS_DBT_DBNAME"] = saved
    return dbt_project.manifest_path


def _manifest_database() -> str | None:
    """The database the current manifest's models were parsed for."""
    try:
        nodes = json.loads(dbt_project.manifest_path.read_text()).get("nodes", {})
    except (OSError, ValueError):
        return None
    return next((n.get("database") for n in nodes.values() if n.get("resource_type") == "model"), None)


def _parse_profile(env: Mapping[str, str]) -> dict[str, str]:
    from dbt.version import __version__ as dbt_version

    return {**{k: v for k, v in sorted(env.items()) if k != "MEDROBOTICS_DBT_PASSWORD"}, "dbt": dbt_version}


def ensure_partial_parse(env: Mapping[str, str]) -> bool:
    """Make `target/partial_parse.msgpack` (which dagster-dbt copies into every invocation's target path) one
    written with the connection settings `env` the invocations will run with, so they parse only what changed.
    Parses once per change of settings or of the project; returns True when it parsed."""
    target = Path(dbt_project.project_dir) / dbt_project.target_path
    target.mkdir(parents=True, exist_ok=True)
    wanted = _parse_profile(env)
    marker = target / PARSE_PROFILE_FILE
    partial = target / PARTIAL_PARSE_FILE

    def current() -> bool:
        try:
            return partial.exists() and json.loads(marker.read_text()) == wanted and not manifest_is_stale()
        except (OSError, ValueError):
            return False

    if current():
        return False
    put_dbt_on_path()
    with open(target / ".medrobotics_parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one parse at a time (runs of `dagster dev` start in parallel)
        if current():
            return False
        with tempfile.TemporaryDirectory(dir=target, prefix="parse-") as scratch:
            parsed = subprocess.run(
                ["dbt", "parse", "--project-dir", str(SQL_DIR), "--profiles-dir", str(SQL_DIR), "--target-path", scratch, "--quiet"],
                env={**os.environ, **env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
                capture_output=True,
            )
            if parsed.returncode != 0 or not (Path(scratch) / PARTIAL_PARSE_FILE).exists():
                return False  # the invocation itself will parse in full and report what is wrong
            os.replace(Path(scratch) / PARTIAL_PARSE_FILE, partial)
        tmp_marker = marker.with_suffix(".tmp")
        tmp_marker.write_text(json.dumps(wanted, sort_keys=True))
        os.replace(tmp_marker, marker)
    return True
