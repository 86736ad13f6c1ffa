"""The local instance's event log: dagster-postgres's, with a run's bookkeeping written in bulk on pooled connections.

A range run writes a planned and a materialization event per partition, asset and check. dagster-postgres opens a
new connection for every write (NullPool, so that an instance holds no connections) and asks PostgreSQL whether
its tables exist before many of them; here a process keeps a small pool and remembers the tables it has seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as db
from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._serdes import serialize_value
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import create_pg_engine
from sqlalchemy.dialects.postgresql import ARRAY

# Connections a process keeps open to the instance database: the run's thread, dbt's event stream, the console.
POOL_SIZE = 2
POOL_RECYCLE_SECONDS = 3600
# Events written here in bulk; the rest go through dagster-postgres as they are.
BULK_WRITTEN = frozenset(
    {
        DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.ASSET_OBSERVATION,
    }
)


class LocalEventLogStorage(PostgresEventLogStorage):
    """dagster-postgres's event log on a connection pool, writing a batch of planned or materialization events (one
    per partition and asset) as one executemany instead of one connection and four statements each. Dagster's other
    lever, one planned
    event per asset for the whole range (DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS), would stop a failed run's
    partitions from showing as failed."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True):
        super().__init__(postgres_url, should_autocreate_tables=should_autocreate_tables)
        self._engine.dispose()
        self._engine = create_pg_engine(  # pre-ping: the embedded server may have restarted since the last write
            postgres_url,
            isolation_level="AUTOCOMMIT",
            pool_size=POOL_SIZE,
            max_overflow=POOL_SIZE * 4,
            pool_recycle=POOL_RECYCLE_SECONDS,
            pool_pre_ping=True,
        )
        self._tables_seen: set[str] = set()

    def has_table(self, table_name: str) -> bool:
        """Dagster asks before writing check executions and tags; a table once present stays (migrations add)."""
        if table_name not in self._tables_seen and super().has_table(table_name):
            self._tables_seen.add(table_name)
        return table_name in self._tables_seen

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        bulk = [e for e in events if e.dagster_event_type in BULK_WRITTEN]
        rest = [e for e in events if e.dagster_event_type not in BULK_WRITTEN]
        if rest:
            super().store_event_batch(rest)
        if bulk:
            self._store_asset_events(bulk)

    def _store_asset_events(self, events: Sequence[EventLogEntry]) -> None:
        """What dagster-postgres does with a batch of materializations, for planned ones too, but sent as one
        executemany (SQLAlchemy compiled a multi-row VALUES statement anew for every batch: 12 % of a two-year range
        run), and each asset's row keeps its latest event of each kind (dagster-postgres updates only the batch's last
        asset)."""
        insert = SqlEventLogStorageTable.insert().returning(SqlEventLogStorageTable.c.id, sort_by_parameter_order=True)
        with self._connect() as conn:
            event_ids = [int(row[0]) for row in conn.execute(insert, [self._event_to_row(e) for e in events])]
        pairs = zip(events, event_ids, strict=True)
        latest = {(e.dagster_event.asset_key, e.dagster_event_type): (e, event_id) for e, event_id in pairs}
        with self.index_transaction() as conn:
            self._store_asset_event_tags(conn, events, event_ids)
            for event, event_id in latest.values():
                self._store_asset_event(conn, event, event_id)

    def _store_asset_check_evaluation_planned(self, event: EventLogEntry, event_id: int | None) -> None:
        """One row per partition of the run, as Dagster writes them, in one INSERT .. SELECT over the partition keys:
        the event is serialized and sent once, not once per row (a check of a two-year range run sent its event 731
        times, 35 checks 25,000 rows of the same text)."""
        planned = event.get_dagster_event().event_specific_data
        keys = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        table = AssetCheckExecutionsTable.c
        row = {
            table.asset_key: planned.asset_key.to_string(),
            table.check_name: planned.check_name,
            table.run_id: event.run_id,
            table.execution_status: AssetCheckExecutionRecordStatus.PLANNED.value,
            table.evaluation_event: serialize_value(event),
            table.evaluation_event_timestamp: self._event_insert_timestamp(event),
            table.evaluation_event_storage_id: event_id,
        }
        partition = db.func.unnest(db.bindparam("keys", list(keys), type_=ARRAY(db.Text))).label("partition")
        values = [db.literal(value, type_=column.type).label(column.name) for column, value in row.items()]
        with self.index_connection() as conn:
            conn.execute(
                AssetCheckExecutionsTable.insert().from_select([*row, table.partition], db.select(*values, partition))
            )
