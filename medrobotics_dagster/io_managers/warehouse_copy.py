"""Rows into a warehouse table inside the load's transaction: PostgreSQL reads Arrow batches as CSV from `COPY FROM
STDIN` (the server parses while the next batch is produced); Redshift COPYs Parquet staged in the lake, or the
asset's own Parquet already there (`StagedParquet`) through a manifest, without a second upload."""

from __future__ import annotations

import io
import json
import queue
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator

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
from medrobotics_dagster.resources.lake import Lake

COPY_STAGING_PREFIX = "staging/_warehouse_copy"
CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed", batch_size=65536)
PREFETCH_CHUNKS = 4  # CSV chunks (a table each, a day of telemetry) made ahead of the COPY
_END = object()


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


def _csv_chunks(tables: Iterable[pa.Table], counts: Counter, day_column: str | None) -> Iterator[bytes]:
    for table in tables:
        if len(table):
            buffer = io.BytesIO()
            pa_csv.write_csv(table, buffer, CSV_OPTIONS)
            if day_column is None:
                counts[""] += len(table)
            else:
                days = pc.value_counts(pc.cast(table.column(day_column), pa.date32()))
                counts.update(
                    dict(zip(days.field("values").to_pylist(), days.field("counts").to_pylist(), strict=True))
                )
            yield buffer.getvalue()


def _ahead(chunks: Iterator[bytes], depth: int = PREFETCH_CHUNKS) -> Iterator[bytes]:
    """The chunks, made by a thread of their own while the caller sends the previous ones: reading Parquet and
    writing CSV leave Python's lock, so the client keeps pace with the server's COPY instead of taking turns."""
    made: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                made.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for chunk in chunks:
                if not offer(chunk):
                    return
            offer(_END)
        except BaseException as exc:  # handed to the caller, which raises it inside the COPY
            offer(exc)

    maker = threading.Thread(target=make, name="copy-csv", daemon=True)
    maker.start()
    try:
        while (item := made.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        maker.join()


def copy_postgres(cur, target: TableTarget, tables: Iterable[pa.Table]) -> dict[str, int]:
    """COPY the tables into the target; the rows sent per UTC day of its partition column ('': unpartitioned),
    counted as they stream (the window was emptied first, so no second scan of the table is needed)."""
    counts: Counter = Counter()
    chunks = _ahead(_csv_chunks(tables, counts, target.partition_expr if target.window else None))
    try:
        cur.copy_expert(
            sql.postgres_copy_sql(target.schema, target.table, [c.name for c in target.columns]),
            _ChunkReader(chunks),
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


def staged_tables(lake: Lake, target: TableTarget, staged: StagedParquet) -> Iterator[pa.Table]:
    for key in staged.keys:
        data = lake.get(key)
        if parquet_rows(data) == 0:  # an empty day (most of a backfill before the first data): nothing to copy
            continue
        table = to_arrow(from_parquet(data), target.columns)
        if target.window is not None:
            check_rows_inside(
                table, f"{target.name} from {key}", target.partition_expr, target.window.start, target.window.end
            )
        yield table


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
