"""Replace exactly one time window (or the whole) of a warehouse table with a DataFrame, in one transaction."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from medrobotics_dagster.io_managers import warehouse_sql as sql
from medrobotics_dagster.io_managers.frames import check_rows_inside, to_parquet
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.lake import Lake

COPY_STAGING_PREFIX = "staging/_warehouse_copy"


class WarehouseLoadError(Exception):
    """A load was refused or failed; the table keeps its previous rows."""


@dataclass(frozen=True)
class TimeWindow:
    start: datetime
    end: datetime  # exclusive


def utc_naive(frame: pd.DataFrame) -> pd.DataFrame:
    """Timezone-aware columns to naive UTC: the warehouse stores TIMESTAMP in UTC."""
    frame = frame.copy()
    for name in frame.columns:
        dtype = frame[name].dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            frame[name] = frame[name].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


def _naive(moment: datetime) -> datetime:
    """A window bound as naive UTC, comparable with the warehouse's TIMESTAMP columns."""
    stamp = pd.Timestamp(moment)
    return (stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp).to_pydatetime()


def existing_columns(cur, schema: str, table: str) -> list[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    )
    return [row[0] for row in cur.fetchall()]


def _copy_postgres(cur, schema: str, table: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="\\N")
    buffer.seek(0)
    cur.copy_expert(sql.postgres_copy_sql(schema, table, list(frame.columns)), buffer)


def _copy_redshift(cur, schema: str, table: str, frame: pd.DataFrame, lake: Lake, iam_role: str | None) -> None:
    if not iam_role:
        raise WarehouseLoadError("Redshift loads need an IAM role for COPY (MEDROBOTICS_REDSHIFT_IAM_ROLE)")
    key = f"{COPY_STAGING_PREFIX}/{schema}.{table}/{uuid.uuid4().hex}.parquet"
    lake.put(key, to_parquet(frame))
    try:
        try:
            cur.execute(sql.redshift_copy_sql(schema, table, lake.uri(key), iam_role))
        except Exception as exc:
            # The rejected rows live in stl_load_errors for this session's last COPY: ask on the same connection.
            cur.connection.rollback()
            cur.execute(sql.REDSHIFT_LOAD_ERRORS_SQL)
            rejected = [dict(zip([c.name for c in cur.description], row)) for row in cur.fetchall()]
            raise WarehouseLoadError(f"COPY into {schema}.{table} failed: {exc}; rejected rows: {rejected}") from exc
    finally:
        lake.delete(key)


def replace_rows(
    warehouse: Warehouse,
    lake: Lake | None,
    schema: str,
    table: str,
    frame: pd.DataFrame,
    partition_expr: str | None = None,
    window: TimeWindow | None = None,
    declared_types: dict[str, str] | None = None,
) -> int:
    """Delete the window's rows (all rows when unpartitioned) and load `frame`, atomically; returns rows loaded."""
    if (partition_expr is None) != (window is None):
        raise WarehouseLoadError(f"{table}: a partitioned load needs both partition_expr and a time window")
    frame = utc_naive(frame)
    if window is not None:
        check_rows_inside(frame, table, partition_expr, window.start, window.end)
    columns = sql.infer_columns(frame, warehouse.dialect, declared_types)
    params = {"start": _naive(window.start), "end": _naive(window.end)} if window else None
    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute(sql.create_schema_sql(schema))
        current = existing_columns(cur, schema, table)
        if current and current != list(frame.columns):
            if window is not None:
                raise WarehouseLoadError(
                    f"{schema}.{table} has columns {current} but the frame has {list(frame.columns)}; "
                    "a partitioned table cannot change shape one partition at a time"
                )
            cur.execute(sql.drop_table_sql(schema, table))  # unpartitioned: the new shape replaces the old
        cur.execute(sql.create_table_sql(schema, table, columns, warehouse.dialect))
        cur.execute(sql.delete_window_sql(schema, table, partition_expr), params)
        if len(frame):
            if warehouse.dialect == "redshift":
                _copy_redshift(cur, schema, table, frame, lake, warehouse.iam_role)
            else:
                _copy_postgres(cur, schema, table, frame)
    return len(frame)


def read_rows(
    warehouse: Warehouse, schema: str, table: str, partition_expr: str | None = None, window: TimeWindow | None = None
) -> pd.DataFrame:
    """The table's rows, or those of one time window."""
    params = {"start": _naive(window.start), "end": _naive(window.end)} if window else None
    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute(sql.select_window_sql(schema, table, partition_expr if window else None), params)
        names = [c.name for c in cur.description]
        return pd.DataFrame.from_records(cur.fetchall(), columns=names)
