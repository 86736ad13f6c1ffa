"""What both IO managers do to an asset's value: its columns and their types, Arrow tables with exactly
those types, Parquet bytes, and refusing rows outside the partition window.

Values may be pandas DataFrames, Arrow tables, or `PartitionedTables` (a lazy stream of one Arrow table per
partition, so a range run holds one day in memory at a time).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from medrobotics_dagster.column_types import Column, ColumnType, arrow_schema, from_arrow, parse_sql_type

if TYPE_CHECKING:  # pandas is imported where a frame is made (0.45 s of loading the definitions otherwise)
    import pandas as pd


class RowsOutsideWindow(ValueError):
    """Rows that would survive the next replacement of their own partition as duplicates."""


@dataclass
class PartitionedTables:
    """(partition key, Arrow table) pairs produced lazily, in time order; partitions not yielded are empty."""

    parts: Iterator[tuple[str, pa.Table]]
    columns: Sequence[Column]
    # Called once the stream is consumed: metadata only known then (counts of rejected lines, files read, ...).
    summary: Callable[[], Mapping[str, object]] | None = None
    # The same, per partition key: each partition's own figures for its own materialization.
    partition_summary: Callable[[], Mapping[str, Mapping[str, object]]] | None = None


@dataclass(frozen=True)
class StagedParquet:
    """Parquet objects already in the lake (one per partition, written with the table's schema): a load from
    them needs no second upload (Redshift COPYs them through a manifest)."""

    keys: Sequence[str]
    columns: Sequence[Column]
    sizes: Mapping[str, int]  # bytes of each object (Redshift manifests of Parquet need them)


def extract_column_types(frame: pd.DataFrame) -> dict[str, ColumnType]:
    """The source's own types that travel with an extract (`frame.attrs['column_types']`: types or SQL text)."""
    declared = frame.attrs.get("column_types") or {}
    return {name: parse_sql_type(text) if isinstance(text, str) else text for name, text in declared.items()}


def is_frame(value: object) -> bool:
    """Whether the value is a pandas DataFrame (pandas loaded only when asked)."""
    import pandas as pd

    return isinstance(value, pd.DataFrame)


def _inferred_arrow(frame: pd.DataFrame) -> pa.Table:
    frame = frame.copy(deep=False)
    frame.attrs = {}  # the types travel separately; pandas would try to store them as JSON in the schema
    return pa.Table.from_pandas(frame, preserve_index=False)


def columns_of(value: pd.DataFrame | pa.Table, declared: Mapping[str, ColumnType] | None = None) -> list[Column]:
    """The value's columns with warehouse types: declared ones win, then the source's own types that travel
    with an extract (`frame.attrs['column_types']`), then types inferred from the data."""
    types: dict[str, ColumnType] = {}
    if not isinstance(value, pa.Table):
        types.update(extract_column_types(value))
    types.update(declared or {})
    missing = (
        [name for name in value.column_names if name not in types]
        if isinstance(value, pa.Table)
        else [str(name) for name in value.columns if name not in types]
    )
    if missing:
        table = value if isinstance(value, pa.Table) else _inferred_arrow(value[missing])
        for name in missing:
            types[name] = from_arrow(table.schema.field(name).type)
    names = value.column_names if isinstance(value, pa.Table) else [str(c) for c in value.columns]
    return [Column(name, types[name]) for name in names]


def to_arrow(value: pd.DataFrame | pa.Table, columns: Sequence[Column]) -> pa.Table:
    """The value as an Arrow table with exactly the columns' types (timezone-aware times become naive UTC);
    a value that does not fit (an overflowing integer, too many decimals) raises rather than being coerced."""
    table = value if isinstance(value, pa.Table) else _inferred_arrow(value)
    schema = arrow_schema(columns)
    arrays = []
    for field in schema:
        column = table.column(field.name)
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = column.cast(pa.timestamp(column.type.unit, tz="UTC")).cast(pa.timestamp(column.type.unit))
        if pa.types.is_large_string(column.type) or pa.types.is_string_view(column.type):
            column = column.cast(pa.string())
        if column.type != field.type and column.null_count == len(column):
            column = pa.nulls(len(column), field.type)  # all missing: pandas may have guessed any dtype
        arrays.append(column if column.type == field.type else pc.cast(column, field.type, safe=True))
    return pa.Table.from_arrays(arrays, schema=schema)


def to_parquet(table: pa.Table) -> bytes:
    """Parquet bytes of an Arrow table, types as they are (call `to_arrow` first), timestamps in microseconds."""
    buffer = io.BytesIO()
    pq.write_table(
        table,
        buffer,
        coerce_timestamps="us",
        allow_truncated_timestamps=True,
        compression="snappy",
        # Dictionary pages pay only for text (ids, types); for measurements they cost time and bytes.
        use_dictionary=[field.name for field in table.schema if pa.types.is_string(field.type)],
    )
    return buffer.getvalue()


def from_parquet(data: bytes) -> pa.Table:
    # ParquetFile over the bytes themselves: read_table's dataset machinery costs more than a day's rows
    return pq.ParquetFile(pa.BufferReader(data)).read()


def parquet_rows(data: bytes) -> int:
    """The rows of a Parquet object, from its footer alone."""
    return pq.read_metadata(pa.BufferReader(data)).num_rows


def to_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas()


def naive_utc(moment: datetime) -> datetime:
    """A time as naive UTC, comparable with the warehouse's TIMESTAMP columns (a naive time is taken as UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _naive_utc(moment: datetime) -> pa.TimestampScalar:
    return pa.scalar(naive_utc(moment), type=pa.timestamp("us"))


def check_rows_inside(table: pa.Table, what: str, partition_expr: str, start: datetime, end: datetime) -> None:
    """Refuse a table with a row whose partition time is missing or outside [start, end)."""
    if partition_expr not in table.column_names:
        raise RowsOutsideWindow(f"{what}: partition column {partition_expr!r} is not in the frame")
    times = table.column(partition_expr)
    if not pa.types.is_timestamp(times.type):
        raise RowsOutsideWindow(f"{what}: partition column {partition_expr!r} is {times.type}, not a timestamp")
    lower, upper = _naive_utc(start), _naive_utc(end)
    outside = pc.or_kleene(pc.less(times, lower), pc.greater_equal(times, upper))
    outside = pc.fill_null(outside, True)
    count = pc.sum(outside).as_py() or 0
    if count:
        example = times.filter(outside)[0].as_py()
        raise RowsOutsideWindow(
            f"{what}: {count} row(s) have {partition_expr} outside [{lower.as_py().isoformat()}, "
            f"{upper.as_py().isoformat()}), e.g. {example!r}; refusing a load that could duplicate rows"
        )


def rows_in_window(table: pa.Table, partition_expr: str, start: datetime, end: datetime) -> pa.Table:
    """The rows whose partition time lies in [start, end)."""
    times = table.column(partition_expr)
    mask = pc.and_(pc.greater_equal(times, _naive_utc(start)), pc.less(times, _naive_utc(end)))
    return table.filter(pc.fill_null(mask, False))
