"""Checks a command runs before it writes anything: every setting it will use, each failure one ConfigError.

Order: the environment, the local state directory, the Dagster instance directory (commands that load the
warehouse run Dagster), the lake, the source database, the warehouse; the first failure is reported (naming
its setting) and nothing has been written by then.
"""

from __future__ import annotations

import os
from pathlib import Path

from medrobotics_dagster import settings
from medrobotics_dagster.resources.databases import SourceDatabase, Warehouse
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.resources.postgres_connection import transaction


def check_home() -> Path:
    """The local state directory exists (or can be created) and is writable."""
    home = settings.home()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise settings.ConfigError(
            settings.HOME, f"cannot create the local state directory {home}: {exc.strerror}"
        ) from exc
    if not os.access(home, os.W_OK):
        raise settings.ConfigError(settings.HOME, f"the local state directory {home} is not writable")
    return home


DAGSTER_HOME = "DAGSTER_HOME"


def check_dagster_home() -> Path | None:
    """DAGSTER_HOME, when set, is what Dagster requires: an absolute path to an existing, writable directory
    (unset: the commands use the local state directory's `dagster/`)."""
    value = os.environ.get(DAGSTER_HOME, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise settings.ConfigError(DAGSTER_HOME, f"must be an absolute path, got {value!r}")
    if not path.exists():
        raise settings.ConfigError(
            DAGSTER_HOME, f"the directory {path} does not exist: create it (mkdir -p {path}) or unset {DAGSTER_HOME}"
        )
    if not path.is_dir():
        raise settings.ConfigError(DAGSTER_HOME, f"{path} is not a directory")
    if not os.access(path, os.W_OK):
        raise settings.ConfigError(DAGSTER_HOME, f"the directory {path} is not writable")
    return path


def check_lake(lake: Lake) -> None:
    """The lake opens and answers (S3: bucket exists, endpoint reachable, credentials accepted)."""
    lake.check()


def check_database(url: str, setting: str) -> None:
    """The database accepts a connection and a query."""
    with transaction(url, setting) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")


def preflight(
    *, lake: Lake | None = None, source: SourceDatabase | None = None, warehouse: Warehouse | None = None
) -> dict:
    """Check what a command needs, in order; returns the resolved source and warehouse URLs that were checked."""
    settings.environment()
    # In local mode an unset URL means the embedded server under the home: check the home first.
    if any(
        r is not None and not r.url and settings.database_url(s) is None
        for r, s in ((source, settings.SOURCE_DB_URL), (warehouse, settings.WAREHOUSE_URL))
    ) or (lake is not None and not lake.url and not os.environ.get(settings.LAKE_URL, "").strip()):
        check_home()
    if warehouse is not None:
        check_dagster_home()
    if lake is not None:
        check_lake(lake)
    resolved = {}
    if source is not None:
        resolved["source"] = source.resolved_url()
        check_database(resolved["source"], settings.SOURCE_DB_URL)
    if warehouse is not None:
        resolved["warehouse"] = warehouse.resolved_url()
        check_database(resolved["warehouse"], settings.WAREHOUSE_URL)
        if settings.environment() == "prod" and not os.environ.get(settings.REDSHIFT_IAM_ROLE, "").strip():
            raise settings.ConfigError(
                settings.REDSHIFT_IAM_ROLE, "is required when MEDROBOTICS_ENV=prod (Redshift COPY from S3)"
            )
    return resolved
