"""Replace exactly one time window (or the whole) of a warehouse table with new rows, in one transaction.

PostgreSQL: Arrow batches written as CSV straight into `COPY FROM STDIN` (the server parses while the next
batch is produced). Redshift: Parquet with the table's exact schema in the lake, then `COPY … FORMAT AS
PARQUET`; Parquet that is already in the lake (`StagedParquet`) is loaded through a manifest, not uploaded again.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import psycopg2.errors
import pyarrow as pa
import pyarrow.csv as pa_csv

from medrobotics_dagster.column_types import Column
from medrobotics_dagster.faults import PermanentFault
from medrobotics_dagster.io_managers import audit_log
from medrobotics_dagster.io_managers import warehouse_sql as sql
from medrobotics_dagster.io_managers.frames import StagedParquet, check_rows_inside, from_parquet, to_arrow, to_parquet
from medrobotics_dagster.io_managers.redshift_load_errors import (
    copy_failure_message,
    copy_session,
    describe_copy_failure,
)
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.lake import Lake

COPY_STAGING_PREFIX = "staging/_warehouse_copy"
# A run tagged `medrobotics/rebuild=true` may create a partitioned table Dagster already lists partitions of, or
# replace one of another shape: the way back after a table was lost (a full backfill with this tag).
REBUILD_TAG = "medrobotics/rebuild"
REBUILD_HINT = f"rebuild it with a full backfill of its asset tagged {REBUILD_TAG}=true"
CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed", batch_size=65536)


class WarehouseLoadError(Exception):
    """A load was refused or failed; the table keeps its previous rows."""


class LostTable(WarehouseLoadError, PermanentFault):
    """A partitioned table that Dagster lists partitions of is missing or of another shape: loading one window
    into a new table would hide the loss behind a green run."""

    reason = "lost table"


@dataclass(frozen=True)
class TimeWindow:
    start: datetime
    end: datetime  # exclusive


@dataclass(frozen=True)
class TableTarget:
    """Where rows go: the table, its columns, and the window a load replaces (None: the whole table)."""

    schema: str
    table: str
    columns: Sequence[Column]
    partition_expr: str | None = None
    window: TimeWindow | None = None
    distkey: str | None = None
    sortkey: Sequence[str] = field(default_factory=tuple)
    known_partitions: int = 0  # partitions Dagster lists as materialized: the table must exist with this shape
    rebuild: bool = False  # an explicit rebuild: create the table, or replace one of another shape

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


def _naive(moment: datetime) -> datetime:
    """A window bound as naive UTC, comparable with the warehouse's TIMESTAMP columns."""
    stamp = pd.Timestamp(moment)
    return (stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp).to_pydatetime()


def _window_params(window: TimeWindow | None) -> dict | None:
    return {"start": _naive(window.start), "end": _naive(window.end)} if window else None


def existing_columns(cur, schema: str, table: str) -> list[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    )
    return [row[0] for row in cur.fetchall()]


def _shape_change(current: list[str], wanted: list[str]) -> str:
    missing = [c for c in wanted if c not in current]
    extra = [c for c in current if c not in wanted]
    parts = [f"lacks {', '.join(missing)}"] if missing else []
    parts += [f"has unexpected {', '.join(extra)}"] if extra else []
    return "; ".join(parts) or "columns in another order"


def _missing_table_error(target: TableTarget) -> LostTable:
    return LostTable(
        f"{target.name} does not exist, but Dagster lists {target.known_partitions} materialized partition(s) "
        f"of it (dropped or renamed?); {REBUILD_HINT}"
    )


def _prepare_table(cur, target: TableTarget, dialect: str) -> None:
    """Create the schema and table for a first load or a rebuild; an unpartitioned table of another shape is
    replaced; a partitioned one missing or of another shape is a LostTable."""
    cur.execute(sql.create_schema_sql(target.schema))
    current = existing_columns(cur, target.schema, target.table)
    wanted = [c.name for c in target.columns]
    if current == wanted:
        return
    if current and target.window is not None and not target.rebuild:
        raise LostTable(
            f"{target.name} has changed shape ({_shape_change(current, wanted)}): a partitioned table "
            f"cannot change shape one partition at a time; {REBUILD_HINT}"
        )
    if not current and target.known_partitions and not target.rebuild:
        raise _missing_table_error(target)
    if current:
        cur.execute(sql.drop_table_sql(target.schema, target.table))  # the new shape replaces the old
    cur.execute(
        sql.create_table_sql(target.schema, target.table, target.columns, dialect, target.distkey, target.sortkey)
    )


def create_if_missing(warehouse: Warehouse, target: TableTarget) -> None:
    """Create an empty table for readers that need it, never replacing one; a table Dagster lists
    partitions of is not re-created empty (that would hide its loss)."""
    with warehouse.connection() as conn, conn.cursor() as cur:
        if existing_columns(cur, target.schema, target.table):
            return
        if target.known_partitions and not target.rebuild:
            raise _missing_table_error(target)
        cur.execute(sql.create_schema_sql(target.schema))
        cur.execute(
            sql.create_table_sql(
                target.schema, target.table, target.columns, warehouse.dialect, target.distkey, target.sortkey
            )
        )


def ensure_table(warehouse: Warehouse, target: TableTarget) -> None:
    """Create a partitioned table in its own transaction before any load: parallel first loads of different
    partitions would otherwise race to create it (dagster#18733)."""
    for attempt in range(3):
        try:
            with warehouse.connection() as conn, conn.cursor() as cur:
                _prepare_table(cur, target, warehouse.dialect)
            return
        except (psycopg2.errors.UniqueViolation, psycopg2.errors.DuplicateTable, psycopg2.errors.DuplicateSchema):
            if attempt == 2:
                raise


class _ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks, for `COPY FROM STDIN` without holding all chunks."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _csv_chunks(tables: Iterable[pa.Table], counter: list[int]) -> Iterator[bytes]:
    for table in tables:
        if len(table):
            buffer = io.BytesIO()
            pa_csv.write_csv(table, buffer, CSV_OPTIONS)
            counter[0] += len(table)
            yield buffer.getvalue()


def _copy_postgres(cur, target: TableTarget, tables: Iterable[pa.Table]) -> int:
    counter = [0]
    reader = _ChunkReader(_csv_chunks(tables, counter))
    cur.copy_expert(
        sql.postgres_copy_sql(target.schema, target.table, [c.name for c in target.columns]), reader, size=1 << 20
    )
    return counter[0]


def _copy_redshift(cur, target: TableTarget, uri: str, iam_role: str, manifest: bool) -> int:
    load = sql.redshift_load_sql(target.schema, target.table, target.columns, uri, iam_role, manifest=manifest)
    for statement in load.before:
        cur.execute(statement)
    session_pid, started_at = copy_session(cur)
    try:
        cur.execute(load.copy)
    except psycopg2.Error as exc:
        conn = cur.connection
        conn.rollback()
        details = describe_copy_failure(conn, session_pid, started_at)
        raise WarehouseLoadError(copy_failure_message(f"COPY into {target.name}", exc, details)) from exc
    cur.execute("SELECT pg_last_copy_count()")
    loaded = int(cur.fetchone()[0])
    for statement in load.after:
        cur.execute(statement)
    return loaded


def _manifest(lake: Lake, staged: StagedParquet) -> bytes:
    """A Redshift COPY manifest of the staged objects (Parquet entries must state their content_length)."""
    entries = [
        {"url": lake.uri(key), "mandatory": True, "meta": {"content_length": staged.sizes[key]}}
        for key in staged.keys
        if staged.sizes.get(key)
    ]
    return json.dumps({"entries": entries}).encode()


def _staged_tables(lake: Lake, target: TableTarget, staged: StagedParquet) -> Iterator[pa.Table]:
    for key in staged.keys:
        table = to_arrow(from_parquet(lake.get(key)), target.columns)
        if target.window is not None:
            check_rows_inside(
                table, f"{target.name} from {key}", target.partition_expr, target.window.start, target.window.end
            )
        yield table


@dataclass(frozen=True)
class LoadResult:
    """What a load did: rows inserted, and per UTC day of its window the rows deleted and inserted."""

    rows: int
    inserted_by_day: dict[str, int] = field(default_factory=dict)
    deleted_by_day: dict[str, int] = field(default_factory=dict)


def _counts_by_day(cur, target: TableTarget) -> dict[str, int]:
    cur.execute(sql.count_by_day_sql(target.schema, target.table, target.partition_expr), _window_params(target.window))
    return {(day.isoformat() if day is not None else ""): int(n) for day, n in cur.fetchall()}


def _stage_for_redshift(lake: Lake, target: TableTarget, staged: StagedParquet | None, table) -> str | None:
    """Write what COPY reads before the transaction opens (no locks held during the upload); its key."""
    key = f"{COPY_STAGING_PREFIX}/{target.schema}.{target.table}/{uuid.uuid4().hex}"
    if staged:
        lake.put(key + ".manifest", _manifest(lake, staged))
        return key + ".manifest"
    if len(table):
        lake.put(key + ".parquet", to_parquet(table))
        return key + ".parquet"
    return None


def _insert(cur, warehouse: Warehouse, lake: Lake | None, target: TableTarget, value, staged_key: str | None) -> int:
    """Insert `value` (StagedParquet or an Arrow table): Redshift COPYs the object staged under `staged_key`
    (none: nothing to load), PostgreSQL streams the rows through COPY FROM STDIN. Returns the rows inserted."""
    if warehouse.dialect == "redshift":
        if staged_key is None:
            return 0
        manifest = isinstance(value, StagedParquet)
        return _copy_redshift(cur, target, lake.uri(staged_key), warehouse.iam_role, manifest=manifest)
    tables = _staged_tables(lake, target, value) if isinstance(value, StagedParquet) else [value]
    return _copy_postgres(cur, target, tables)


def replace_rows(
    warehouse: Warehouse, lake: Lake | None, target: TableTarget, value, audit: audit_log.AuditRecord | None = None
) -> LoadResult:
    """Delete the window's rows (all rows when unpartitioned) and load `value` (a DataFrame, an Arrow table or
    `StagedParquet`), atomically, with its audit rows (one per UTC day) when given a record."""
    if (target.partition_expr is None) != (target.window is None):
        raise WarehouseLoadError(f"{target.name}: a partitioned load needs both partition_expr and a time window")
    staged = value if isinstance(value, StagedParquet) else None
    table = None if staged else to_arrow(value, target.columns)
    if table is not None and target.window is not None:
        check_rows_inside(table, target.name, target.partition_expr, target.window.start, target.window.end)
    redshift = warehouse.dialect == "redshift"
    if redshift and not warehouse.iam_role:
        raise WarehouseLoadError("Redshift loads need an IAM role for COPY (MEDROBOTICS_REDSHIFT_IAM_ROLE)")
    if target.window is not None:
        ensure_table(warehouse, target)
    if audit is not None:
        audit_log.ensure_table(warehouse)
    staged_key = _stage_for_redshift(lake, target, staged, table) if redshift else None
    try:
        with warehouse.connection() as conn, conn.cursor() as cur:
            if redshift and target.window is not None:
                cur.execute(sql.redshift_lock_sql(target.schema, target.table))
            _prepare_table(cur, target, warehouse.dialect)
            deleted = _counts_by_day(cur, target)
            cur.execute(
                sql.delete_window_sql(target.schema, target.table, target.partition_expr), _window_params(target.window)
            )
            loaded = _insert(cur, warehouse, lake, target, staged if staged else table, staged_key)
            result = LoadResult(loaded, _counts_by_day(cur, target) if target.window else {"": loaded}, deleted)
            if audit is not None:
                audit.rows_loaded = audit.rows_read = loaded
                audit.rows_deleted = sum(deleted.values())
                audit_log.write(cur, audit_log.for_load(audit, result.inserted_by_day, deleted))
            return result
    finally:
        if staged_key is not None:
            lake.delete(staged_key)


def read_rows(
    warehouse: Warehouse, schema: str, table: str, partition_expr: str | None = None, window: TimeWindow | None = None
) -> pd.DataFrame:
    """The table's rows, or those of one time window."""
    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute(sql.select_window_sql(schema, table, partition_expr if window else None), _window_params(window))
        names = [c.name for c in cur.description]
        return pd.DataFrame.from_records(cur.fetchall(), columns=names)
