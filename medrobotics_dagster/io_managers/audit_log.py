"""`audit.etl_audit_log`, the operator's record: one row per load attempt and partition (UTC day), with its
status (succeeded, failed, blocked, retried), the error's class and first line, and the rows deleted,
inserted (`rows_loaded`) and quarantined. A successful load writes its rows in the load's own transaction, so
they exist exactly when it committed; a failed or blocked one writes them in a transaction of their own."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import dagster as dg
import psycopg2.errors
from psycopg2.extras import execute_values

from medrobotics_dagster import column_types as t
from medrobotics_dagster.column_types import Column
from medrobotics_dagster.error_text import first_line
from medrobotics_dagster.io_managers import warehouse_sql as sql
from medrobotics_dagster.io_managers.frames import naive_utc
from medrobotics_dagster.io_managers.step_facts import attempt_of, failure_status, log_retry, run_id_of

AUDIT_SCHEMA = "audit"
AUDIT_TABLE = "etl_audit_log"
ERROR_MESSAGE_LIMIT = 1000
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
    # Added later: nullable, so an existing table gains them with ALTER TABLE ADD COLUMN (see migrate_sql).
    Column("status", t.varchar(16)),
    Column("attempt", t.integer()),
    Column("rows_deleted", t.bigint()),
    Column("error_class", t.varchar(200)),
    Column("error_message", t.varchar(ERROR_MESSAGE_LIMIT)),
]

Status = Literal["succeeded", "failed", "blocked", "retried"]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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
    status: Status = "succeeded"
    attempt: int = 1
    rows_deleted: int | None = None
    error_class: str | None = None
    error_message: str | None = None
    quarantine_table: bool = False  # not a column: the load's rows are quarantined lines, counted as such

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

    def failed(self, status: Status, exc: BaseException) -> AuditRecord:
        """This load's record as a failed (or retried) attempt: the cause's class, the first line, no rows."""
        cause = exc.__cause__ if isinstance(exc, dg.Failure) and exc.__cause__ is not None else exc
        return replace(
            self,
            status=status,
            rows_loaded=0,
            rows_deleted=0,
            error_class=type(cause).__name__,
            error_message=first_line(exc)[:ERROR_MESSAGE_LIMIT],
        )

    def by_day(self, figures: Mapping[str, Mapping[str, int]] | None = None) -> list[AuditRecord]:
        """One record per UTC day of the window, with that day's figures ({'YYYY-MM-DD': {column: n}});
        an unpartitioned load stays one record."""
        if self.partition_start is None or self.partition_end is None:
            return [self]
        records = []
        for start, end in utc_days(self.partition_start, self.partition_end):
            day = figures.get(start.date().isoformat(), {}) if figures is not None else {}
            records.append(replace(self, partition_start=start, partition_end=end, **day))
        return records


def for_load(
    audit: AuditRecord, inserted_by_day: Mapping[str, int], deleted_by_day: Mapping[str, int]
) -> list[AuditRecord]:
    """A load's records, one per UTC day of its window ('' keys an unpartitioned load's counts)."""

    def figures(day: str) -> dict[str, int]:
        inserted = inserted_by_day.get(day, 0)
        out = {"rows_read": inserted, "rows_loaded": inserted, "rows_deleted": deleted_by_day.get(day, 0)}
        return {**out, "rows_quarantined": inserted} if audit.quarantine_table else out

    if audit.partition_start is None or audit.partition_end is None:
        return [replace(audit, **figures(""))]
    days = [start.date().isoformat() for start, _ in utc_days(audit.partition_start, audit.partition_end)]
    return audit.by_day({day: figures(day) for day in days})


def _naive(moment: datetime | None) -> datetime | None:
    return None if moment is None else naive_utc(moment)


def utc_days(start: datetime, end: datetime) -> Iterable[tuple[datetime, datetime]]:
    """[day, next day) for each UTC day in [start, end)."""
    day, end = _naive(start), _naive(end)
    while day < end:
        yield day, day + timedelta(days=1)
        day += timedelta(days=1)


def _existing_columns(cur) -> list[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (AUDIT_SCHEMA, AUDIT_TABLE),
    )
    return [row[0] for row in cur.fetchall()]


def ensure_table(warehouse) -> None:
    """Create the audit table, or add the columns an older one lacks (its rows are the operator's history:
    never dropped for a new shape). Concurrent first loads may race: the loser retries."""
    for attempt in range(3):
        try:
            with warehouse.connection() as conn, conn.cursor() as cur:
                current = _existing_columns(cur)
                if not current:
                    cur.execute(sql.create_schema_sql(AUDIT_SCHEMA))
                    cur.execute(sql.create_table_sql(AUDIT_SCHEMA, AUDIT_TABLE, AUDIT_COLUMNS, warehouse.dialect))
                for statement in migrate_sql(current, warehouse.dialect) if current else []:
                    cur.execute(statement)
            return
        except (
            psycopg2.errors.UniqueViolation,
            psycopg2.errors.DuplicateTable,
            psycopg2.errors.DuplicateSchema,
            psycopg2.errors.DuplicateColumn,
        ):
            if attempt == 2:
                raise


def record_audit(warehouse, records: AuditRecord | Iterable[AuditRecord]) -> None:
    """Write audit rows in a transaction of their own: loads that are not warehouse tables (the lake's), and
    failed or blocked loads (whose own transaction rolled back or never ran)."""
    ensure_table(warehouse)
    with warehouse.connection() as conn, conn.cursor() as cur:
        write(cur, records)


def audit_failure(context, warehouse, asset_key, window, exc: BaseException) -> None:
    """A failed attempt's rows (one per UTC day of `window`, or one) in their own transaction (a warehouse that
    is down cannot take them; the load's own error is the one reported); one that will be retried is logged
    at WARNING with its attempt number and cause."""
    base = AuditRecord(
        asset_key.to_user_string(),
        run_id_of(context),
        window.start if window else None,
        window.end if window else None,
        attempt=attempt_of(context)[0],
    )
    status = failure_status(context, exc)
    if status == "retried":
        log_retry(context, asset_key.to_user_string(), exc)
    try:
        record_audit(warehouse, base.failed(status, exc).by_day())
    except Exception as audit_exc:
        what = asset_key.to_user_string()
        context.log.warning(f"could not write the audit row of a failed load of {what}: {audit_exc}")


def insert_sql() -> str:
    names = ", ".join(sql.quote_ident(c.name) for c in AUDIT_COLUMNS)
    return f"INSERT INTO {sql.qualified(AUDIT_SCHEMA, AUDIT_TABLE)} ({names}) VALUES %s"


def migrate_sql(existing: list[str], dialect: str) -> list[str]:
    """ALTER TABLE statements adding the columns an older audit table lacks (one per statement: Redshift)."""
    table = sql.qualified(AUDIT_SCHEMA, AUDIT_TABLE)
    return [
        f"ALTER TABLE {table} ADD COLUMN {sql.quote_ident(c.name)} {c.type.sql(dialect)}"
        for c in AUDIT_COLUMNS
        if c.name not in existing
    ]


def write(cur, records: AuditRecord | Iterable[AuditRecord]) -> None:
    """Insert the records on the given cursor (its transaction) in one statement; finished_at is now unless set."""
    records = [records] if isinstance(records, AuditRecord) else list(records)
    rows = []
    for record in records:
        record.finished_at = record.finished_at or utc_now()
        values = {c.name: getattr(record, c.name) for c in AUDIT_COLUMNS}
        values["partition_start"] = _naive(record.partition_start)
        values["partition_end"] = _naive(record.partition_end)
        rows.append(tuple(values[c.name] for c in AUDIT_COLUMNS))
    if rows:
        execute_values(cur, insert_sql(), rows, page_size=500)
