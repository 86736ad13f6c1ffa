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
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._serdes import ConfigurableClassData, serialize_value
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.event_log import PostgresEventLogStorage

from medrobotics_dagster import settings
from medrobotics_dagster.instance_onboarding import mark_onboarding_seen
from medrobotics_dagster.project_paths import REPOSITORY_ROOT
from medrobotics_dagster.resources.embedded_postgres import resolve_database_url

INSTANCE_TEMPLATE = REPOSITORY_ROOT / "dagster.yaml"
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


class PlannedEventBatchingEventLogStorage(PostgresEventLogStorage):
    """dagster-postgres's event log, writing a run's planned materializations (one per partition and asset) in one
    INSERT instead of one connection and four statements each. Dagster's other lever, one planned event per asset
    for the whole range (DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS), would stop a failed run's partitions
    from showing as failed."""

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        planned = [e for e in events if e.dagster_event_type == DagsterEventType.ASSET_MATERIALIZATION_PLANNED]
        rest = [e for e in events if e.dagster_event_type != DagsterEventType.ASSET_MATERIALIZATION_PLANNED]
        if rest:
            super().store_event_batch(rest)
        if not planned:
            return
        with self._connect() as conn:
            result = conn.execute(self.prepare_insert_event_batch(planned).returning(SqlEventLogStorageTable.c.id))
            event_ids = [int(row[0]) for row in result.fetchall()]
        latest = {
            event.dagster_event.asset_key: (event, event_id) for event, event_id in zip(planned, event_ids, strict=True)
        }
        with self.index_transaction() as conn:
            self._store_asset_event_tags(conn, planned, event_ids)
            for event, event_id in latest.values():  # the asset's row keeps its latest planned event
                self._store_asset_event(conn, event, event_id)

    def _store_asset_check_evaluation_planned(self, event: EventLogEntry, event_id: int | None) -> None:
        """One row per partition of the run, as Dagster writes them, but the event serialized once, not per row
        (a check of a two-year range run serialized its event 731 times), and sent as one executemany."""
        planned = event.get_dagster_event().event_specific_data
        keys = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        row = dict(
            asset_key=planned.asset_key.to_string(),
            check_name=planned.check_name,
            run_id=event.run_id,
            execution_status=AssetCheckExecutionRecordStatus.PLANNED.value,
            evaluation_event=serialize_value(event),
            evaluation_event_timestamp=self._event_insert_timestamp(event),
            evaluation_event_storage_id=event_id,
        )
        with self.index_connection() as conn:
            conn.execute(AssetCheckExecutionsTable.insert(), [dict(row, partition=key) for key in keys])


class LocalPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres storage on the local state directory's PostgreSQL, with batched event writes."""

    def __init__(self, postgres_url: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(postgres_url, inst_data=inst_data)
        self._event_log_storage = PlannedEventBatchingEventLogStorage(postgres_url)

    @classmethod
    def config_type(cls):
        return {}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value) -> LocalPostgresStorage:
        enable_event_batching()
        return cls(postgres_url=storage_url(), inst_data=inst_data)


def prepare_home(home: Path | None = None) -> Path:
    """The instance directory (default `.medrobotics/dagster/`), holding the repository's dagster.yaml."""
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
