"""The SQL the warehouse IO manager sends, built as text so it can be checked without a server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from medrobotics_dagster.column_types import Column, Dialect
from medrobotics_dagster.sql_identifiers import qualified, quote_ident, quote_literal


def create_schema_sql(schema: str) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}"


def create_table_sql(
    schema: str,
    table: str,
    columns: Sequence[Column],
    dialect: Dialect,
    distkey: str | None = None,
    sortkey: Sequence[str] = (),
) -> str:
    """CREATE TABLE IF NOT EXISTS; on Redshift with the table's distribution and sort keys."""
    body = ",\n    ".join(
        f"{quote_ident(c.name)} {c.type.sql(dialect)}{'' if c.nullable else ' NOT NULL'}" for c in columns
    )
    layout = ""
    if dialect == "redshift":
        if distkey:
            layout += f"\nDISTSTYLE KEY DISTKEY ({quote_ident(distkey)})"
        if sortkey:
            layout += f"\nSORTKEY ({', '.join(quote_ident(c) for c in sortkey)})"
    return f"CREATE TABLE IF NOT EXISTS {qualified(schema, table)} (\n    {body}\n){layout}"


def drop_table_sql(schema: str, table: str) -> str:
    return f"DROP TABLE IF EXISTS {qualified(schema, table)}"


def delete_window_sql(schema: str, table: str, partition_expr: str | None) -> str:
    """Delete the rows a load replaces: one time window (bind %(start)s, %(end)s) or, unpartitioned, all."""
    if partition_expr is None:
        return f"DELETE FROM {qualified(schema, table)}"
    column = quote_ident(partition_expr)
    return f"DELETE FROM {qualified(schema, table)} WHERE {column} >= %(start)s AND {column} < %(end)s"


def select_window_sql(schema: str, table: str, partition_expr: str | None) -> str:
    if partition_expr is None:
        return f"SELECT * FROM {qualified(schema, table)}"
    column = quote_ident(partition_expr)
    return f"SELECT * FROM {qualified(schema, table)} WHERE {column} >= %(start)s AND {column} < %(end)s"


def count_by_day_sql(schema: str, table: str, partition_expr: str | None) -> str:
    """Rows per UTC day of one time window (bind %(start)s, %(end)s); unpartitioned: one count, day NULL."""
    if partition_expr is None:
        return f"SELECT NULL, COUNT(*) FROM {qualified(schema, table)}"
    column = quote_ident(partition_expr)
    return (
        f"SELECT CAST({column} AS DATE), COUNT(*) FROM {qualified(schema, table)} "
        f"WHERE {column} >= %(start)s AND {column} < %(end)s GROUP BY 1"
    )


def postgres_copy_sql(schema: str, table: str, columns: Sequence[str]) -> str:
    """COPY of CSV as Arrow writes it: strings quoted, NULL an unquoted empty field."""
    names = ", ".join(quote_ident(c) for c in columns)
    return f"COPY {qualified(schema, table)} ({names}) FROM STDIN WITH (FORMAT csv)"


def redshift_copy_sql(schema: str | None, table: str, s3_uri: str, iam_role: str, manifest: bool = False) -> str:
    """COPY of staged Parquet (one object, or a manifest of many) into a table (schema None: a temporary one).
    Columnar COPY takes no column list: the files' columns match the table's by position and type
    (see column_types.REDSHIFT_PARQUET_TYPES)."""
    target = qualified(schema, table) if schema else quote_ident(table)
    return f"COPY {target}\nFROM {quote_literal(s3_uri)}\nIAM_ROLE {quote_literal(iam_role)}\nFORMAT AS PARQUET" + (
        "\nMANIFEST" if manifest else ""
    )


@dataclass(frozen=True)
class RedshiftLoad:
    """The statements that load staged Parquet into a table on Redshift, in the load's transaction, around its COPY
    (after which pg_last_copy_count() is the rows loaded)."""

    before: tuple[str, ...]
    copy: str
    after: tuple[str, ...]

    @property
    def statements(self) -> list[str]:
        return [*self.before, self.copy, *self.after]


def redshift_load_sql(
    schema: str, table: str, columns: Sequence[Column], s3_uri: str, iam_role: str, manifest: bool = False
) -> RedshiftLoad:
    """COPY straight into the table; a table with JSON (SUPER) columns through a temporary table whose JSON columns
    are VARCHAR, then INSERT … SELECT JSON_PARSE(…) (why: column_types' docstring)."""
    if not any(c.type.kind == "json" for c in columns):
        return RedshiftLoad((), redshift_copy_sql(schema, table, s3_uri, iam_role, manifest), ())
    text_table = f"{table}_json_text"
    body = ",\n    ".join(f"{quote_ident(c.name)} {c.type.redshift_copy_sql()}" for c in columns)
    names = ", ".join(quote_ident(c.name) for c in columns)
    values = ", ".join(
        f"JSON_PARSE({quote_ident(c.name)})" if c.type.kind == "json" else quote_ident(c.name) for c in columns
    )
    return RedshiftLoad(
        before=(f"CREATE TEMP TABLE {quote_ident(text_table)} (\n    {body}\n)",),
        copy=redshift_copy_sql(None, text_table, s3_uri, iam_role, manifest),
        after=(
            f"INSERT INTO {qualified(schema, table)} ({names})\nSELECT {values}\nFROM {quote_ident(text_table)}",
            f"DROP TABLE {quote_ident(text_table)}",
        ),
    )


def redshift_lock_sql(schema: str, table: str) -> str:
    """Serialize concurrent loads of one table: parallel delete+COPY transactions on Redshift otherwise abort
    with a serializable isolation violation (error 1023)."""
    return f"LOCK {qualified(schema, table)}"
