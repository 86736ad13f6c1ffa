"""The dbt project under sql/, as dagster-dbt sees it."""

import fcntl
import os
import re
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

from dagster import get_dagster_logger
from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from packaging import version

from medrobotics_dagster.defs.warehouse.dbt_executable import dbt_executable
from medrobotics_dagster.defs.warehouse.dbt_parse_state import (
    PARSE_PROFILE_FILE,
    ensure_partial_parse,
    manifest_is_stale,
    parsed_manifest_database,
    put_dbt_on_path,
)
from medrobotics_dagster.project_paths import DBT_TARGET_DIR, SQL_DIR

logger = get_dagster_logger()
dbt_project = DbtProject(project_dir=SQL_DIR, profiles_dir=SQL_DIR, target_path=DBT_TARGET_DIR)


# Opens dagster-dbt's in-process dbt adapter (for the column metadata) beside the dbt process, one at a time.
_ADAPTER_OPENER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dbt_adapter")


class ProjectDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, minus one `dbt --version` subprocess per dbt step (seconds each: it imports dbt) to
    learn a version this process already knows (the `dbt` it runs is the one installed beside it), minus a parse
    of every macro file per dbt step for the adapter it opens in this process, and with that adapter opened in a
    thread while dbt starts instead of before (`adapter_when_open` waits for it)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args) -> Future:
        # Importing dbt and loading its profile took 2 s of a process's first dbt step here, all before dbt started.
        return _ADAPTER_OPENER.submit(self._open_adapter, list(args))

    def _open_adapter(self, args):
        from medrobotics_dagster.defs.warehouse.dbt_adapter_macros import macros_loaded_once

        with macros_loaded_once():
            return super()._initialize_dbt_core_adapter(args)


def adapter_when_open(invocation: DbtCliInvocation) -> None:
    """Replace the invocation's adapter still being opened by the adapter (None, with dagster-dbt's warning, when it
    cannot be opened: the events then carry no column metadata, as with dagster-dbt's own resource). Call it where
    the dbt step's environment is still set (`dbt_warehouse_env`): the adapter's profile is rendered from it."""
    if not isinstance(invocation.adapter, Future):
        return
    try:
        invocation.adapter = invocation.adapter.result()
    except Exception:
        logger.warning("An error was encountered when creating a handle to the dbt adapter in Dagster.", exc_info=True)
        invocation.adapter = None


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
    if not connection or connection["MEDROBOTICS_DBT_DBNAME"] != database:
        connection = {"MEDROBOTICS_DBT_DBNAME": database}  # sql/profiles.yml's defaults for the rest
    # one parse for both: dbt steps need partial-parse state written with these settings (else a second parse)
    ensure_partial_parse(connection, with_manifest=True)
    if not manifest_is_stale() and parsed_manifest_database() == database:
        return dbt_project.manifest_path
    # the project does not parse: dagster-dbt's own parse raises with dbt's reason
    saved = os.environ.get("MEDROBOTICS_DBT_DBNAME")
    os.environ["MEDROBOTICS_DBT_DBNAME"] = database
    try:
        with open(target / ".medrobotics_manifest.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # processes starting together parse once
            if manifest_is_stale() or parsed_manifest_database() != database:
                dbt_project.preparer.prepare(dbt_project)
                # that parse replaced target/partial_parse.msgpack, written with no connection settings
                (target / PARSE_PROFILE_FILE).unlink(missing_ok=True)
    finally:
        if saved is None:
            os.environ.pop("MEDROBOTICS_DBT_DBNAME", None)
        else:
            os.environ["MEDROBOTICS_DBT_DBNAME"] = saved
    return dbt_project.manifest_path
