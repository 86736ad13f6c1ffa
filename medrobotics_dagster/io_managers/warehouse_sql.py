"""The SQL the warehouse IO manager sends, built as text so it can be checked without a server."""

from __future__ import annotations

from typing import Sequence

from medrobotics_dagster.column_types import Column, Dialect


def quote_ident(name: str) -> str:
    """A double-quoted identifier; embedded quotes doubled, so any name from data is safe."""
    if not name or "\x00" in name:
        raise ValueError(f"invalid SQL identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A Redshift string literal (backslash escapes too) for statements that take no bind parameters (COPY)."""
    if "\x00" in value:
        raise ValueError("NUL byte in SQL literal")
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def qualified(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


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


def redshift_copy_sql(schema: str, table: str, s3_uri: str, iam_role: str, manifest: bool = False) -> str:
    """COPY of staged Parquet (one object, or a manifest of many). Columnar COPY takes no column list: the
    files' columns match the table's by position and type (see column_types.REDSHIFT_PARQUET_TYPES)."""
    return (
        f"COPY {qualified(schema, table)}\n"
        f"FROM {quote_literal(s3_uri)}\n"
        f"IAM_ROLE {quote_literal(iam_role)}\n"
        f"FORMAT AS PARQUET" + ("\nMANIFEST" if manifest else "")
    )


def redshift_lock_sql(schema: str, table: str) -> str:
    """Serialize concurrent loads of one table: parallel delete+COPY transactions on Redshift otherwise abort
    with a serializable isolation violation (error 1023)."""
    return f"LOCK {qualified(schema, table)}"
