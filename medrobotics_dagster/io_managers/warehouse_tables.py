"""The warehouse tables a load writes: where its rows go, and the table created or checked before they do.

A partitioned table is created only by its first load (Dagster lists no partition of it) or an explicit rebuild;
one that is missing or of another shape after that is a `LostTable`, never silently re-created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg2.errors

from medrobotics_dagster.column_types import Column
from medrobotics_dagster.faults import PermanentFault
from medrobotics_dagster.io_managers import warehouse_sql as sql
from medrobotics_dagster.resources.databases import Warehouse

# A run tagged `medrobotics/rebuild=true` may create a partitioned table Dagster already lists partitions of, or
# replace one of another shape: the way back after a table was lost (a full backfill with this tag).
REBUILD_TAG = "medrobotics/rebuild"
REBUILD_HINT = f"rebuild it with a full backfill of its asset tagged {REBUILD_TAG}=true"


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


def prepare_table(cur, target: TableTarget, dialect: str) -> None:
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
                prepare_table(cur, target, warehouse.dialect)
            return
        except (psycopg2.errors.UniqueViolation, psycopg2.errors.DuplicateTable, psycopg2.errors.DuplicateSchema):
            if attempt == 2:
                raise
