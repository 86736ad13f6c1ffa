"""`audit.etl_audit_log`: one row per load (load id, run, asset, partition window, rows read / loaded /
quarantined, start and end), written in the load's own transaction so it exists exactly when the load committed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from medrobotics_dagster import column_types as t
from medrobotics_dagster.column_types import Column
from medrobotics_dagster.io_managers import warehouse_sql as sql

AUDIT_SCHEMA = "audit"
AUDIT_TABLE = "etl_audit_log"
AUDIT_COLUMNS = [
    Column("load_id", t.varchar(36), nullable=False),
    Column("run_id", t.varchar(64)),
    Column("asset_key", t.varchar(300), nullable=False),
    Column("partition_start", t.timestamp()),
    Column("partition_end", t.timestamp()),
    Column("rows_read", t.bigint()),
    Column("rows_loaded", t.bigint()),
    Column("rows_quarantined", t.bigint()),
    Column("started_at", t.timestamp(), nullable=False),
    Column("finished_at", t.timestamp(), nullable=False),
]


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class AuditRecord:
    asset_key: str
    run_id: str | None
    partition_start: datetime | None = None
    partition_end: datetime | None = None
    rows_read: int | None = None
    rows_loaded: int | None = None
    rows_quarantined: int = 0
    load_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=utc_now)
    finished_at: datetime | None = None

    def metadata(self) -> dict[str, object]:
        """What the materialization shows of the load (numbers the UI plots per partition over time)."""
        return {
            "load_id": self.load_id,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "load_started_at": self.started_at.isoformat(),
            "load_finished_at": (self.finished_at or self.started_at).isoformat(),
        }


def _naive(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def insert_sql() -> str:
    names = ", ".join(sql.quote_ident(c.name) for c in AUDIT_COLUMNS)
    values = ", ".join(f"%({c.name})s" for c in AUDIT_COLUMNS)
    return f"INSERT INTO {sql.qualified(AUDIT_SCHEMA, AUDIT_TABLE)} ({names}) VALUES ({values})"


def write(cur, record: AuditRecord) -> None:
    """Insert the record on the load's cursor (its transaction); finished_at is now unless already set."""
    record.finished_at = record.finished_at or utc_now()
    values = {c.name: getattr(record, c.name) for c in AUDIT_COLUMNS}
    values["partition_start"], values["partition_end"] = _naive(record.partition_start), _naive(record.partition_end)
    cur.execute(insert_sql(), values)
