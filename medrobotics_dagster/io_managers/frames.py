"""What both IO managers do to a DataFrame: Parquet bytes, and refusing rows outside the partition window."""

import io
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


class RowsOutsideWindow(ValueError):
    """Rows that would survive the next replacement of their own partition as duplicates."""


def to_parquet(frame: pd.DataFrame) -> bytes:
    """Parquet bytes without the pandas index, timestamps in microseconds (what Redshift COPY reads)."""
    buffer = io.BytesIO()
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False), buffer, coerce_timestamps="us", allow_truncated_timestamps=True
    )
    return buffer.getvalue()


def from_parquet(data: bytes) -> pd.DataFrame:
    return pq.read_table(io.BytesIO(data)).to_pandas()


def utc_times(frame: pd.DataFrame, what: str, partition_expr: str) -> pd.Series:
    """The partition column as UTC timestamps (naive values are UTC already)."""
    if partition_expr not in frame.columns:
        raise RowsOutsideWindow(f"{what}: partition column {partition_expr!r} is not in the frame")
    return pd.to_datetime(frame[partition_expr], utc=True, format="ISO8601")


def check_rows_inside(frame: pd.DataFrame, what: str, partition_expr: str, start: datetime, end: datetime) -> pd.Series:
    """Refuse a frame with a row whose partition time is missing or outside [start, end); returns the times."""
    times = utc_times(frame, what, partition_expr)
    lower, upper = pd.Timestamp(start), pd.Timestamp(end)
    lower = lower.tz_localize("UTC") if lower.tzinfo is None else lower
    upper = upper.tz_localize("UTC") if upper.tzinfo is None else upper
    outside = times.isna() | (times < lower) | (times >= upper)
    if outside.any():
        raise RowsOutsideWindow(
            f"{what}: {int(outside.sum())} row(s) have {partition_expr} outside [{lower.isoformat()}, {upper.isoformat()}), "
            f"e.g. {frame.loc[outside, partition_expr].iloc[0]!r}; refusing a load that could duplicate rows"
        )
    return times
