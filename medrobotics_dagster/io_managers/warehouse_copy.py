"""Rows into a warehouse table inside the load's transaction: PostgreSQL reads Arrow batches as CSV from `COPY FROM
STDIN` (the server parses while the next batch is produced); Redshift COPYs Parquet staged in the lake, or the
asset's own Parquet already there (`StagedParquet`) through a manifest, without a second upload."""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import psycopg2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from medrobotics_dagster.io_managers import warehouse_sql as sql
from medrobotics_dagster.io_managers.frames import (
    StagedParquet,
    check_rows_inside,
    from_parquet,
    parquet_rows,
    to_arrow,
    to_parquet,
)
from medrobotics_dagster.io_managers.redshift_load_errors import (
    copy_failure_message,
    copy_session,
    describe_copy_failure,
)
from medrobotics_dagster.io_managers.warehouse_tables import TableTarget, WarehouseLoadError
from medrobotics_dagster.ordered_ahead import ordered_ahead
from medrobotics_dagster.resources.lake import Lake

COPY_STAGING_PREFIX = "staging/_warehouse_copy"
CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed", batch_size=65536)
PREFETCH_CHUNKS = 4  # CSV chunks (a table each, a day of telemetry) made ahead of the COPY
Source = TypeVar("Source")


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


def _csv_chunk(table: pa.Table | None, day_column: str | None) -> tuple[bytes, Counter]:
    """The table as CSV for COPY, and its rows per UTC day of `day_column` ('': unpartitioned)."""
    counts: Counter = Counter()
    if table is None or not len(table):
        return b"", counts
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer, CSV_OPTIONS)
    if day_column is None:
        counts[""] = len(table)
    else:
        days = pc.value_counts(pc.cast(table.column(day_column), pa.date32()))
        counts.update(dict(zip(days.field("values").to_pylist(), days.field("counts").to_pylist(), strict=True)))
    return buffer.getvalue(), counts


def _counted(chunks: Iterator[tuple[bytes, Counter]], counts: Counter) -> Iterator[bytes]:
    for data, chunk_counts in chunks:
        counts.update(chunk_counts)
        if data:
            yield data


def copy_postgres(
    cur, target: TableTarget, sources: Iterable[Source], table_of: Callable[[Source], pa.Table | None]
) -> dict[str, int]:
    """COPY the table of each source into the target; the rows sent per UTC day of its partition column ('':
    unpartitioned), counted as they stream (the window was emptied first, so no second scan of the table is
    needed). A thread reads the next sources and writes their CSV while psycopg2 sends the previous ones (reading
    Parquet and writing CSV leave Python's lock): the client keeps pace with the server instead of taking turns."""
    day_column = target.partition_expr if target.window else None
    counts: Counter = Counter()
    chunks = ordered_ahead(
        lambda source: _csv_chunk(table_of(source), day_column), sources, 1, PREFETCH_CHUNKS, "copy-csv"
    )
    try:
        cur.copy_expert(
            sql.postgres_copy_sql(target.schema, target.table, [c.name for c in target.columns]),
            _ChunkReader(_counted(chunks, counts)),
            size=1 << 20,
        )
    finally:
        chunks.close()  # a COPY that failed midway stops the thread making its chunks
    return {day if isinstance(day, str) else day.isoformat(): n for day, n in counts.items()}


def copy_redshift(cur, target: TableTarget, uri: str, iam_role: str, manifest: bool) -> int:
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


def manifest(lake: Lake, staged: StagedParquet) -> bytes:
    """A Redshift COPY manifest of the staged objects (Parquet entries must state their content_length)."""
    entries = [
        {"url": lake.uri(key), "mandatory": True, "meta": {"content_length": staged.sizes[key]}}
        for key in staged.keys
        if staged.sizes.get(key)
    ]
    return json.dumps({"entries": entries}).encode()


def staged_table(lake: Lake, target: TableTarget, key: str) -> pa.Table | None:
    """The rows of one staged object, checked to lie in the target's window; None for an empty day (most of a
    backfill before the first data)."""
    data = lake.get(key)
    if parquet_rows(data) == 0:
        return None
    table = to_arrow(from_parquet(data), target.columns)
    if target.window is not None:
        check_rows_inside(
            table, f"{target.name} from {key}", target.partition_expr, target.window.start, target.window.end
        )
    return table


def stage_for_redshift(lake: Lake, target: TableTarget, staged: StagedParquet | None, table) -> str | None:
    """Write what COPY reads before the transaction opens (no locks held during the upload); its key."""
    key = f"{COPY_STAGING_PREFIX}/{target.schema}.{target.table}/{uuid.uuid4().hex}"
    if staged:
        lake.put(key + ".manifest", manifest(lake, staged))
        return key + ".manifest"
    if len(table):
        lake.put(key + ".parquet", to_parquet(table))
        return key + ".parquet"
    return None
