"""extra_fields reaches SUPER on Redshift by a combination AWS documents, checked over the statements the loader
renders and the Parquet schema it stages (column_types' docstring: which combinations, and why this one)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp

from medrobotics_dagster.column_types import JSON_TEXT_MAX_BYTES, Column, arrow_schema, bigint, json
from medrobotics_dagster.defs.telemetry.schema import FACT_COLUMNS
from medrobotics_dagster.io_managers import warehouse_sql as sql
from medrobotics_dagster.io_managers.frames import to_parquet
from medrobotics_dagster_tests.redshift_rules import assert_redshift_sql, check_redshift_sql

URI, ROLE = "s3://lake/staging/_warehouse_copy/x.manifest", "arn:aws:iam::1:role/copy"


def _columns_of_create(statement: exp.Expression) -> dict[str, exp.DataType]:
    return {d.name.lower(): d.kind for d in statement.this.expressions if isinstance(d, exp.ColumnDef)}


def undocumented_super_loads(statements: list[str], staged: pa.Schema, columns: list[Column]) -> list[str]:
    """Why each SUPER column of the load is not filled the way AWS documents (empty: every one is):
    (a) COPY … FORMAT AS PARQUET SERIALIZETOJSON straight into SUPER from a nested Parquet column (struct, list,
        map), or (b) the Parquet STRING COPY'd into a VARCHAR, then INSERT … SELECT JSON_PARSE(it) into SUPER."""
    trees = [sqlglot.parse_one(s, read="redshift") for s in statements]
    copy = next(t for t in trees if isinstance(t, exp.Copy))
    copied_into = copy.this.name.lower()
    created = {t.this.this.name.lower(): _columns_of_create(t) for t in trees if isinstance(t, exp.Create)}
    inserts = [t for t in trees if isinstance(t, exp.Insert)]
    serialize = "SERIALIZETOJSON" in copy.sql(dialect="redshift").upper()
    problems = []
    for position, column in enumerate(columns):
        if column.type.sql("redshift") != "SUPER":
            continue
        field = staged.field(position)  # columnar COPY matches columns by position
        copy_type = created.get(copied_into, {}).get(column.name)
        copy_type = copy_type.sql(dialect="redshift") if copy_type is not None else "SUPER"  # the table itself
        nested = pa.types.is_struct(field.type) or pa.types.is_list(field.type) or pa.types.is_map(field.type)
        if field.name != column.name:
            problems.append(f"{column.name}: the staged column at its position is {field.name}")
        elif copy_type == "SUPER" and serialize and nested:
            continue  # (a)
        elif copy_type.startswith("VARCHAR") and pa.types.is_string(field.type):
            parsed = [
                value
                for insert in inserts
                if insert.expression.find(exp.From).this.name.lower() == copied_into
                for name, value in zip(insert.this.expressions, insert.expression.expressions, strict=True)
                if name.name == column.name and isinstance(value, exp.ParseJSON) and value.this.name == column.name
            ]
            if not parsed:
                problems.append(f"{column.name}: JSON text COPY'd into {copy_type} is never JSON_PARSEd into SUPER")
        else:
            problems.append(f"{column.name}: Parquet {field.type} into {copy_type} (SERIALIZETOJSON: {serialize})")
    return problems


def staged_schema(columns: list[Column]) -> pa.Schema:
    """The Arrow schema of the Parquet object the loader stages for these columns, read back from the file."""
    return pq.ParquetFile(pa.BufferReader(to_parquet(arrow_schema(columns).empty_table()))).schema_arrow


def telemetry_load() -> sql.RedshiftLoad:
    return sql.redshift_load_sql("analytics", "fact_procedure_telemetry", FACT_COLUMNS, URI, ROLE, manifest=True)


def test_the_telemetry_load_fills_extra_fields_as_aws_documents():
    load = telemetry_load()
    staged = staged_schema(FACT_COLUMNS)
    parquet_column = pq.ParquetFile(pa.BufferReader(to_parquet(arrow_schema(FACT_COLUMNS).empty_table()))).schema
    extra = parquet_column.column(staged.get_field_index("extra_fields"))
    assert (extra.physical_type, str(extra.logical_type)) == ("BYTE_ARRAY", "String")
    assert undocumented_super_loads(load.statements, staged, FACT_COLUMNS) == []
    assert f'"extra_fields" VARCHAR({JSON_TEXT_MAX_BYTES})' in load.before[0]
    assert 'JSON_PARSE("extra_fields")' in load.after[0] and load.after[1].startswith("DROP TABLE")


def test_the_whole_telemetry_load_script_follows_the_redshift_rules():
    create = sql.create_table_sql("analytics", "fact_procedure_telemetry", FACT_COLUMNS, "redshift")
    assert_redshift_sql(";\n".join([create, *telemetry_load().statements]), where="telemetry load on Redshift")


def test_the_old_load_is_neither_documented_nor_allowed_by_the_rules():
    old_copy = sql.redshift_copy_sql("analytics", "fact_procedure_telemetry", URI, ROLE, manifest=True)
    problems = undocumented_super_loads([old_copy], staged_schema(FACT_COLUMNS), FACT_COLUMNS)
    assert problems == ["extra_fields: Parquet string into SUPER (SERIALIZETOJSON: False)"]
    create = sql.create_table_sql("analytics", "fact_procedure_telemetry", FACT_COLUMNS, "redshift")
    assert [v.rule_id for v in check_redshift_sql(f"{create};\n{old_copy}")] == ["RS021"]


@pytest.mark.parametrize(
    ("staged_type", "documented"),
    [(pa.string(), False), (pa.struct([("firmware", pa.string())]), True), (pa.list_(pa.int64()), True)],
    ids=["JSON text", "struct", "list"],
)
def test_serializetojson_is_documented_for_nested_parquet_only(staged_type, documented):
    columns = [Column("id", bigint()), Column("extra", json())]
    copy = sql.redshift_copy_sql("a", "t", URI, ROLE) + " SERIALIZETOJSON"
    staged = pa.schema([("id", pa.int64()), ("extra", staged_type)])
    assert (undocumented_super_loads([copy], staged, columns) == []) is documented


def test_a_table_without_json_columns_is_copied_straight_in():
    columns = [Column("id", bigint())]
    load = sql.redshift_load_sql("staging", "t", columns, URI, ROLE)
    assert (load.before, load.after) == ((), ()) and load.copy.startswith('COPY "staging"."t"')
