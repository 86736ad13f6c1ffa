"""The SQL the warehouse IO manager sends, built as text so it can be checked without a server."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Mapping, Sequence

import pandas as pd

Dialect = Literal["postgres", "redshift"]

# Redshift has no TEXT of unbounded length: VARCHAR(65535) is its widest string.
STRING_TYPE = {"postgres": "TEXT", "redshift": "VARCHAR(65535)"}


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


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str


def _decimal_type(values: pd.Series) -> str:
    scale = 0
    for value in values.dropna():
        exponent = Decimal(value).as_tuple().exponent
        if isinstance(exponent, int):
            scale = max(scale, -exponent)
    return f"NUMERIC(38,{min(scale, 37)})" if scale else "NUMERIC(38,0)"


def infer_columns(frame: pd.DataFrame, dialect: Dialect, declared: Mapping[str, str] | None = None) -> list[Column]:
    """SQL column types for a frame: declared ones win, the rest follow the pandas dtypes."""
    declared = dict(declared or {})
    declared.update(frame.attrs.get("column_types", {}))
    columns = []
    for name in frame.columns:
        if name in declared:
            columns.append(Column(name, declared[name]))
            continue
        series = frame[name]
        kind = pd.api.types.infer_dtype(series, skipna=True)
        if pd.api.types.is_bool_dtype(series.dtype) or kind == "boolean":
            sql_type = "BOOLEAN"
        elif pd.api.types.is_integer_dtype(series.dtype) or kind == "integer":
            sql_type = "BIGINT"
        elif pd.api.types.is_float_dtype(series.dtype) or kind == "floating":
            sql_type = "DOUBLE PRECISION"
        elif pd.api.types.is_datetime64_any_dtype(series.dtype) or kind == "datetime":
            sql_type = "TIMESTAMP"
        elif kind == "date":
            sql_type = "DATE"
        elif kind == "decimal":
            sql_type = _decimal_type(series)
        else:
            sql_type = STRING_TYPE[dialect]
        columns.append(Column(name, sql_type))
    return columns


def create_schema_sql(schema: str) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}"


def create_table_sql(schema: str, table: str, columns: Sequence[Column], dialect: Dialect) -> str:
    body = ",\n    ".join(f"{quote_ident(c.name)} {c.sql_type}" for c in columns)
    return f"CREATE TABLE IF NOT EXISTS {qualified(schema, table)} (\n    {body}\n)"


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


def postgres_copy_sql(schema: str, table: str, columns: Sequence[str]) -> str:
    names = ", ".join(quote_ident(c) for c in columns)
    return f"COPY {qualified(schema, table)} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"


def redshift_copy_sql(schema: str, table: str, s3_uri: str, iam_role: str) -> str:
    """COPY of staged Parquet. Columnar COPY takes no column list: the file's columns match the table's by position."""
    return (
        f"COPY {qualified(schema, table)}\n"
        f"FROM {quote_literal(s3_uri)}\n"
        f"IAM_ROLE {quote_literal(iam_role)}\n"
        f"FORMAT AS PARQUET"
    )


REDSHIFT_LOAD_ERRORS_SQL = (
    "SELECT line_number, colname, err_code, TRIM(err_reason) AS err_reason, TRIM(raw_line) AS raw_line "
    "FROM stl_load_errors WHERE query = pg_last_copy_id() ORDER BY line_number LIMIT 20"
)
