"""The dbt project under sql/, as dagster-dbt sees it."""

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

import orjson
from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from medrobotics_dagster.defs.warehouse.dbt_executable import dbt_executable
from medrobotics_dagster.project_paths import DBT_TARGET_DIR, SQL_DIR, dbt_project_changed_since

PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# The connection settings target/partial_parse.msgpack was written with (no password): dbt refuses a partial
# parse when the profile it renders differs, and re-parses the whole project on every invocation.
PARSE_PROFILE_FILE = "medrobotics_parse_profile.json"
# Earlier parses, one folder per connection profile: going back to a warehouse parsed before (a second target, the
# embedded one and a configured one) installs its state instead of parsing the whole project again (5 to 7 s).
PARSE_STATES_DIR = "parse-states"
KEPT_PARSE_STATES = 8

dbt_project = DbtProject(project_dir=SQL_DIR, profiles_dir=SQL_DIR, target_path=DBT_TARGET_DIR)


def put_dbt_on_path() -> None:
    """dagster-dbt runs dbt from PATH; a virtualenv used without activation has it only beside its Python."""
    bin_dir = Path(sys.executable).parent
    path = os.environ.get("PATH", "")
    if (bin_dir / "dbt").exists() and str(bin_dir) not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([str(bin_dir), path]) if path else str(bin_dir)


class ProjectDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, minus one `dbt --version` subprocess per dbt step (seconds each: it imports dbt) to
    learn a version this process already knows (the `dbt` it runs is the one installed beside it), and minus a
    parse of every macro file per dbt step for the adapter it opens in this process."""

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args):
        from medrobotics_dagster.defs.warehouse.dbt_adapter_macros import macros_loaded_once

        with macros_loaded_once():
            return super()._initialize_dbt_core_adapter(args)


def dbt_cli_resource() -> DbtCliResource:
    put_dbt_on_path()
    return ProjectDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())


# dagster-dbt gives each dbt invocation a target folder of its own (artefacts, logs); the newest are kept to read.
KEPT_INVOCATION_TARGETS = 10
INVOCATION_TARGET = re.compile(r"^.+-[0-9a-f]{7}-[0-9a-f]{7}$")  # <step>-<run id>-<invocation id>, dagster-dbt's names


def prune_invocation_targets(target: Path | None = None, keep: int = KEPT_INVOCATION_TARGETS) -> None:
    """Remove all but the `keep` newest per-invocation folders under sql/target (one demo left hundreds of MB)."""
    target = target or DBT_TARGET_DIR
    folders = [p for p in target.iterdir() if p.is_dir() and INVOCATION_TARGET.match(p.name)] if target.is_dir() else []
    for folder in sorted(folders, key=lambda p: p.stat().st_mtime, reverse=True)[keep:]:
        shutil.rmtree(folder, ignore_errors=True)


def manifest_is_stale() -> bool:
    """No manifest yet, or a dbt file changed after it was written."""
    manifest = dbt_project.manifest_path
    return not manifest.exists() or dbt_project_changed_since(manifest.stat().st_mtime)


def manifest_database() -> str:
    """The warehouse database the manifest's relation names should carry (dagster-dbt's column metadata queries
    them): the configured URL's, else the embedded warehouse's (sql/profiles.yml's default)."""
    from urllib.parse import urlsplit

    url = os.environ.get("MEDROBOTICS_WAREHOUSE_URL", "").strip()
    return (
        os.environ.get("MEDROBOTICS_DBT_DBNAME")
        or (urlsplit(url).path.strip("/") if url else "")
        or "medrobotics_warehouse"
    )


def ensure_manifest() -> Path:
    """The manifest the definitions are built from, parsed only when missing, older than a dbt file, or parsed for
    another warehouse database. Never re-parsed just because a process starts: dagster-dbt's `prepare_if_dev`
    would run `dbt parse` in every process `dagster dev` starts (code server, each run worker, each step)."""
    from medrobotics_dagster.defs.warehouse.dbt_environment import known_connection_env

    put_dbt_on_path()
    database = manifest_database()
    target = DBT_TARGET_DIR
    target.mkdir(parents=True, exist_ok=True)
    connection = known_connection_env()
    if connection and connection["MEDROBOTICS_DBT_DBNAME"] == database:
        # one parse for both: dbt steps need partial-parse state written with these settings (else a second parse)
        ensure_partial_parse(connection, with_manifest=True)
    if not manifest_is_stale() and _manifest_database() == database:
        return dbt_project.manifest_path
    saved = os.environ.get("MEDROBOTICS_DBT_DBNAME")
    os.environ["MEDROBOTICS_DBT_DBNAME"] = database
    try:
        with open(target / ".medrobotics_manifest.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # processes starting together parse once
            if manifest_is_stale() or _manifest_database() != database:
                dbt_project.preparer.prepare(dbt_project)
                # that parse replaced target/partial_parse.msgpack, written with no connection settings
                (target / PARSE_PROFILE_FILE).unlink(missing_ok=True)
    finally:
        if saved is None:
            os.environ.pop("MEDROBOTICS_DBT_DBNAME", None)
        else:
            os.environ["MEDROBOTICS_DBT_DBNAME"] = saved
    return dbt_project.manifest_path


def _manifest_database() -> str | None:
    """The database the current manifest's models were parsed for."""
    try:
        nodes = orjson.loads(dbt_project.manifest_path.read_bytes()).get("nodes", {})
    except (OSError, ValueError):
        return None
    return next((n.get("database") for n in nodes.values() if n.get("resource_type") == "model"), None)


def _parse_profile(env: Mapping[str, str]) -> dict[str, str]:
    from dbt.version import __version__ as dbt_version

    return {**{k: v for k, v in sorted(env.items()) if k != "MEDROBOTICS_DBT_PASSWORD"}, "dbt": dbt_version}


def ensure_partial_parse(env: Mapping[str, str], with_manifest: bool = False) -> bool:
    """Make `target/partial_parse.msgpack` (which dagster-dbt copies into every invocation's target path) one
    written with the connection settings `env` the invocations will run with, so they parse only what changed.
    Parses once per connection profile and change of the project; returns True when it parsed. `with_manifest`: a parse
    also installs its manifest.json (for the database in `env`)."""
    target = DBT_TARGET_DIR
    target.mkdir(parents=True, exist_ok=True)
    wanted = _parse_profile(env)
    marker = target / PARSE_PROFILE_FILE
    partial = target / PARTIAL_PARSE_FILE

    def current() -> bool:
        try:
            fresh = partial.exists() and json.loads(marker.read_text()) == wanted and not manifest_is_stale()
            return fresh and (not with_manifest or _manifest_database() == env.get("MEDROBOTICS_DBT_DBNAME"))
        except (OSError, ValueError):
            return False

    if current():
        return False
    put_dbt_on_path()
    with open(target / ".medrobotics_parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one parse at a time (runs of `dagster dev` start in parallel)
        if current():
            return False
        saved = target / PARSE_STATES_DIR / hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()[:16]
        if _install_saved_parse(saved, partial, with_manifest):
            _write_parse_profile(marker, wanted)
            return False
        with tempfile.TemporaryDirectory(dir=target, prefix="parse-") as scratch:
            parsed = subprocess.run(
                [
                    dbt_executable(),
                    "parse",
                    "--project-dir",
                    str(SQL_DIR),
                    "--profiles-dir",
                    str(SQL_DIR),
                    "--target-path",
                    scratch,
                    "--quiet",
                ],
                env={**os.environ, **env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
                capture_output=True,
            )
            if parsed.returncode != 0 or not (Path(scratch) / PARTIAL_PARSE_FILE).exists():
                return False  # the invocation itself will parse in full and report what is wrong
            _save_parse(Path(scratch), saved)
            if with_manifest:
                os.replace(Path(scratch) / "manifest.json", dbt_project.manifest_path)
            os.replace(Path(scratch) / PARTIAL_PARSE_FILE, partial)
        _write_parse_profile(marker, wanted)
    return True


def start_from_project_parse(env: Mapping[str, str], target_path: Path) -> None:
    """Give a dbt invocation with a target path of its own the project's parse state for `env` (as dagster-dbt does
    for its invocations), so that it parses only what changed."""
    ensure_partial_parse(env)
    state = DBT_TARGET_DIR / PARTIAL_PARSE_FILE
    if state.exists():  # none when the project does not parse: the invocation then says why
        target_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(state, target_path / PARTIAL_PARSE_FILE)


def _write_parse_profile(marker: Path, wanted: Mapping[str, str]) -> None:
    tmp_marker = marker.with_suffix(".tmp")
    tmp_marker.write_text(json.dumps(wanted, sort_keys=True))
    os.replace(tmp_marker, marker)


def _save_parse(scratch: Path, saved: Path) -> None:
    """Keep a copy of a parse's state and manifest for its profile; only the newest KEPT_PARSE_STATES stay."""
    staging = saved.with_name(saved.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in (PARTIAL_PARSE_FILE, "manifest.json"):
        shutil.copyfile(scratch / name, staging / name)
    shutil.rmtree(saved, ignore_errors=True)
    os.replace(staging, saved)
    states = sorted(saved.parent.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in states[KEPT_PARSE_STATES:]:
        shutil.rmtree(old, ignore_errors=True)


def _install_saved_parse(saved: Path, partial: Path, with_manifest: bool) -> bool:
    """Put a saved parse for this profile in place, when there is one and no dbt file changed after it."""
    state = saved / PARTIAL_PARSE_FILE
    if not state.exists() or dbt_project_changed_since(state.stat().st_mtime):
        return False
    copies = [(state, partial)]
    if with_manifest:
        copies.append((saved / "manifest.json", dbt_project.manifest_path))
    for source, destination in copies:
        tmp = destination.with_name(destination.name + ".tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, destination)
    os.utime(saved)  # recently used: kept longest
    return True
