"""Create and fill the warehouse `staging` schema the way the Python staging assets do.

The contract (see sql/models/sources.yml): one table per operational table, same names and columns as
sql/operational/schema.sql, timestamptz converted to UTC `timestamp`, and procedure_outcomes carries an
extra `procedure_start_time`. This is the single place the warehouse tests build staging data; the table
shapes come from the operational DDL through the real extract queries, so they cannot drift from production.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import psycopg2
from psycopg2 import sql

from medrobotics_dagster.column_types import Column, from_source_column
from medrobotics_dagster.defs.staging.operational_extracts import EXTRACTS, STAGING_SCHEMA
from medrobotics_dagster.io_managers.warehouse_sql import create_schema_sql, create_table_sql
from medrobotics_dagster.synthetic.source_schema import schema_path

STAGING_TABLES = {extract.table: extract for extract in EXTRACTS}
DDL_SCHEMA = "operational_ddl"


def create_staging_tables(cur) -> None:
    """The staging tables exactly as the extracts create them: sql/operational/schema.sql applied to a scratch
    schema, read back through each extract query, its column types mapped as the extract maps them."""
    cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(DDL_SCHEMA)))
    cur.execute(sql.SQL("set local search_path to {}").format(sql.Identifier(DDL_SCHEMA)))
    cur.execute(schema_path().read_text())
    columns = {}
    for table, extract in STAGING_TABLES.items():
        window = {"start": "2000-01-01", "end": "2000-01-01"} if extract.partition_expr else None
        cur.execute(extract.query, window)
        columns[table] = [Column(c.name, from_source_column(c)) for c in cur.description]
    cur.execute("set local search_path to default")
    cur.execute(create_schema_sql(STAGING_SCHEMA))
    for table, table_columns in columns.items():
        cur.execute(create_table_sql(STAGING_SCHEMA, table, table_columns, "postgres"))


def _insert(cur, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    for row in rows:
        columns = list(row)
        cur.execute(
            sql.SQL("insert into {}.{} ({}) values ({})").format(
                sql.Identifier(STAGING_SCHEMA),
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            ),
            [row[c] for c in columns],
        )


def load_staging(warehouse_url: str, **tables: list[dict]) -> None:
    """Create schema `staging` with all six tables (if missing) and replace each named table whole.

    `load_staging(url, facilities=[...], surgical_procedures=[...])` replaces those two tables with the
    given rows (dicts of column -> value; missing columns are NULL) in one transaction; tables not named
    are left as they are.
    """
    unknown = set(tables) - set(STAGING_TABLES)
    if unknown:
        raise ValueError(f"not staging tables: {sorted(unknown)}")
    conn = psycopg2.connect(warehouse_url)
    try:
        with conn, conn.cursor() as cur:
            create_staging_tables(cur)
            for table, rows in tables.items():
                cur.execute(sql.SQL("delete from {}.{}").format(sql.Identifier(STAGING_SCHEMA), sql.Identifier(table)))
                _insert(cur, table, rows)
    finally:
        conn.close()
