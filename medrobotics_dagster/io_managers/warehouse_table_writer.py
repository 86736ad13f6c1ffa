"""Replace exactly one time window (or the whole) of a warehouse table with new rows, in one transaction, with
the load's audit rows: the window's rows deleted, the new ones copied in (`warehouse_copy`), counted per UTC day."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING

import pyarrow as pa

from medrobotics_dagster.io_managers import audit_log
from medrobotics_dagster.io_managers import warehouse_sql as sql
from medrobotics_dagster.io_managers.frames import StagedParquet, check_rows_inside, naive_utc, to_arrow
from medrobotics_dagster.io_managers.warehouse_copy import (
    copy_postgres,
    copy_redshift,
    stage_for_redshift,
    staged_table,
)
from medrobotics_dagster.io_managers.warehouse_tables import (
    TableTarget,
    TimeWindow,
    WarehouseLoadError,
    ensure_table,
    prepare_table,
)
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.lake import Lake

if TYPE_CHECKING:
    import pandas as pd


def _window_params(window: TimeWindow | None) -> dict | None:
    return {"start": naive_utc(window.start), "end": naive_utc(window.end)} if window else None


@dataclass(frozen=True)
class LoadResult:
    """What a load did: rows inserted, and per UTC day of its window the rows deleted and inserted."""

    rows: int
    inserted_by_day: dict[str, int] = field(default_factory=dict)
    deleted_by_day: dict[str, int] = field(default_factory=dict)


def _counts_by_day(cur, target: TableTarget) -> dict[str, int]:
    cur.execute(sql.count_by_day_sql(target.schema, target.table, target.partition_expr), _window_params(target.window))
    return {(day.isoformat() if day is not None else ""): int(n) for day, n in cur.fetchall()}


def _rows_of(target: TableTarget, value) -> tuple[StagedParquet | None, pa.Table | None]:
    """The load's rows: Parquet already in the lake, or an Arrow table whose rows all lie inside the window."""
    if (target.partition_expr is None) != (target.window is None):
        raise WarehouseLoadError(f"{target.name}: a partitioned load needs both partition_expr and a time window")
    if isinstance(value, StagedParquet):
        return value, None
    table = to_arrow(value, target.columns)
    if target.window is not None:
        check_rows_inside(table, target.name, target.partition_expr, target.window.start, target.window.end)
    return None, table


def _before_transaction(warehouse: Warehouse, target: TableTarget, audit: audit_log.AuditRecord | None) -> None:
    """What the load's transaction needs first: Redshift's IAM role, the partitioned table, the audit table."""
    if warehouse.dialect == "redshift" and not warehouse.iam_role:
        raise WarehouseLoadError("Redshift loads need an IAM role for COPY (MEDROBOTICS_REDSHIFT_IAM_ROLE)")
    if target.window is not None:
        ensure_table(warehouse, target)
    if audit is not None:
        audit_log.ensure_table(warehouse)


def _copy_in(
    cur, warehouse: Warehouse, lake: Lake | None, target: TableTarget, rows, staged_key: str | None
) -> LoadResult:
    """COPY the rows into the emptied window (on Redshift, what was staged before the transaction opened); the rows
    loaded, per UTC day (PostgreSQL counts them as they stream; Redshift's COPY reads files, so it counts after)."""
    staged, table = rows
    if warehouse.dialect != "redshift":
        if staged:
            by_day = copy_postgres(cur, target, staged.keys, partial(staged_table, lake, target))
        else:
            by_day = copy_postgres(cur, target, [table], lambda rows: rows)
        loaded = sum(by_day.values())
    elif staged_key is None:  # nothing to load
        loaded, by_day = 0, {}
    else:
        loaded = copy_redshift(cur, target, lake.uri(staged_key), warehouse.iam_role, manifest=bool(staged))
        by_day = _counts_by_day(cur, target) if target.window else {}
    return LoadResult(loaded, by_day if target.window else {"": loaded})


def _write_audit(cur, audit: audit_log.AuditRecord | None, result: LoadResult) -> None:
    if audit is not None:
        audit.rows_loaded = audit.rows_read = result.rows
        audit.rows_deleted = sum(result.deleted_by_day.values())
        audit_log.write(cur, audit_log.for_load(audit, result.inserted_by_day, result.deleted_by_day))


def replace_rows(
    warehouse: Warehouse, lake: Lake | None, target: TableTarget, value, audit: audit_log.AuditRecord | None = None
) -> LoadResult:
    """Delete the window's rows (all rows when unpartitioned) and load `value` (a DataFrame, an Arrow table or
    `StagedParquet`), atomically, with its audit rows (one per UTC day) when given a record."""
    rows = _rows_of(target, value)
    _before_transaction(warehouse, target, audit)
    redshift = warehouse.dialect == "redshift"
    staged_key = stage_for_redshift(lake, target, *rows) if redshift else None
    try:
        with warehouse.connection() as conn, conn.cursor() as cur:
            if redshift and target.window is not None:
                cur.execute(sql.redshift_lock_sql(target.schema, target.table))
            prepare_table(cur, target, warehouse.dialect)
            deleted = _counts_by_day(cur, target)
            cur.execute(
                sql.delete_window_sql(target.schema, target.table, target.partition_expr), _window_params(target.window)
            )
            result = replace(_copy_in(cur, warehouse, lake, target, rows, staged_key), deleted_by_day=deleted)
            _write_audit(cur, audit, result)
            return result
    finally:
        if staged_key is not None:
            lake.delete(staged_key)


def read_rows(
    warehouse: Warehouse, schema: str, table: str, partition_expr: str | None = None, window: TimeWindow | None = None
) -> pd.DataFrame:
    """The table's rows, or those of one time window."""
    import pandas as pd

    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute(sql.select_window_sql(schema, table, partition_expr if window else None), _window_params(window))
        names = [c.name for c in cur.description]
        return pd.DataFrame.from_records(cur.fetchall(), columns=names)
