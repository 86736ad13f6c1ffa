"""The local Dagster instance: its directory under the local state directory, and its storage on PostgreSQL.

Dagster's default local storage is SQLite, written one event at a time on a new connection each; a range run
writes a planned and a materialization event per partition, asset and check, so a two-year backfill spent
minutes on bookkeeping. dagster-postgres writes events in batches (DAGSTER_EVENT_BATCH_SIZE) and keeps one
connection pool. Locally the database is `medrobotics_dagster` on the embedded PostgreSQL (or the server in
MEDROBOTICS_DAGSTER_STORAGE_URL), started on demand by whichever process opens the instance first.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage

from medrobotics_dagster import settings
from medrobotics_dagster.instance_onboarding import mark_onboarding_seen
from medrobotics_dagster.local_event_log_storage import LocalEventLogStorage
from medrobotics_dagster.project_paths import REPOSITORY_ROOT
from medrobotics_dagster.resources.embedded_postgres import resolve_database_url

# Not dagster.yaml in the repository root, where `dagster dev` starts: it warns that such a file is not used.
INSTANCE_TEMPLATE = REPOSITORY_ROOT / "deploy" / "dagster.local.yaml"
INSTANCE_DB_NAME = "medrobotics_dagster"
# Events of a run step (and the planned events of a run) are written in batches of this many.
EVENT_BATCH_SIZE = "1000"


def storage_url() -> str:
    """SQLAlchemy URL of the instance database (psycopg2 driver: plain postgresql:// means psycopg 3)."""
    url = resolve_database_url(settings.DAGSTER_STORAGE_URL, INSTANCE_DB_NAME)
    return "postgresql+psycopg2://" + url.split("://", 1)[1]


def enable_event_batching() -> None:
    """Batched event writes, for this process and the run workers it starts (they inherit the environment)."""
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)


class LocalPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres storage on the local state directory's PostgreSQL, with batched event writes."""

    def __init__(self, postgres_url: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(postgres_url, inst_data=inst_data)
        self._event_log_storage = LocalEventLogStorage(postgres_url)

    @classmethod
    def config_type(cls):
        return {}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value) -> LocalPostgresStorage:
        enable_event_batching()
        return cls(postgres_url=storage_url(), inst_data=inst_data)


def prepare_home(home: Path | None = None) -> Path:
    """The instance directory (default `.medrobotics/dagster/`), holding deploy/dagster.local.yaml as dagster.yaml."""
    home = home or settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_bytes() != INSTANCE_TEMPLATE.read_bytes():
        shutil.copyfile(INSTANCE_TEMPLATE, config)
    mark_onboarding_seen(home)  # the UI opens on the asset graph, not on a first-visit dialog
    return home


def local_instance(home: Path | None = None) -> dg.DagsterInstance:
    """The instance `dagster dev` shows: DAGSTER_HOME when set, else `.medrobotics/dagster/` (prepared here)."""
    if home is None and os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.from_config(str(prepare_home(home)))
