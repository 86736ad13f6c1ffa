"""Columns as Dagster's standard column schema (`dagster/column_schema`): what the UI shows as an asset's columns, and
what the IO managers read back as the types an asset declares. Types are written as portable SQL text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from medrobotics_dagster.column_types import Column, ColumnType, parse_sql_type

COLUMN_SCHEMA = "dagster/column_schema"  # TableMetadataSet's key for the schema


def table_schema(columns: Sequence[Column]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(c.name, c.type.sql("postgres"), constraints=dg.TableColumnConstraints(nullable=c.nullable))
            for c in columns
        ]
    )


def column_schema_metadata(columns: Sequence[Column]) -> dict[str, dg.TableSchema]:
    """The metadata entry naming the columns and their types, for an asset spec or a materialization."""
    return {COLUMN_SCHEMA: table_schema(columns)}


def declared_column_types(metadata: Mapping[str, Any] | None) -> dict[str, ColumnType]:
    """The column types in an asset's metadata (its column schema), by column name; none when it has no schema."""
    schema = (metadata or {}).get(COLUMN_SCHEMA)
    if isinstance(schema, dg.TableSchemaMetadataValue):  # metadata as Dagster stores it
        schema = schema.schema
    return {column.name: parse_sql_type(column.type) for column in schema.columns} if schema else {}
