"""The Redshift SQL the warehouse IO manager emits, checked as text: it must parse as Redshift SQL."""

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from medrobotics_dagster.column_types import Column, parse_sql_type
from medrobotics_dagster.io_managers import warehouse_sql as sql
from medrobotics_dagster.io_managers.frames import columns_of

COLUMNS = [
    Column("procedure_id", parse_sql_type("VARCHAR(100)")),
    Column("start_time", parse_sql_type("TIMESTAMP")),
    Column('odd "name"', parse_sql_type("BIGINT")),
]


def parse_redshift(text: str) -> exp.Expression:
    return sqlglot.parse_one(
        text.replace("%(start)s", "'2024-01-01'").replace("%(end)s", "'2024-01-02'"), read="redshift"
    )


def test_create_table_quotes_every_identifier_and_parses():
    text = sql.create_table_sql("staging", "surgical_procedures", COLUMNS, "redshift")
    tree = parse_redshift(text)
    assert isinstance(tree, exp.Create)
    assert [c.name for c in tree.find_all(exp.ColumnDef)] == ["procedure_id", "start_time", 'odd "name"']
    assert '"odd ""name"""' in text


def test_delete_window_binds_the_window_and_names_the_partition_column():
    text = sql.delete_window_sql("staging", "surgical_procedures", "start_time")
    assert "%(start)s" in text and "%(end)s" in text
    tree = parse_redshift(text)
    assert isinstance(tree, exp.Delete)
    assert tree.find(exp.GTE) is not None and tree.find(exp.LT) is not None
    assert sql.delete_window_sql("staging", "facilities", None) == 'DELETE FROM "staging"."facilities"'


def test_redshift_copy_is_parquet_with_iam_role_and_quoted_literals():
    text = sql.redshift_copy_sql(
        "staging", "t", "s3://lake/staging/_warehouse_copy/x'y.parquet", "arn:aws:iam::123:role/copy"
    )
    tree = parse_redshift(text)
    assert isinstance(tree, exp.Copy)
    assert "FORMAT AS PARQUET" in text and "IAM_ROLE 'arn:aws:iam::123:role/copy'" in text
    assert "'s3://lake/staging/_warehouse_copy/x''y.parquet'" in text
    assert "(" not in text.split("FROM")[0], "columnar COPY takes no column list"


def test_every_statement_of_a_telemetry_load_on_redshift_follows_the_redshift_rules():
    from medrobotics_dagster.defs.telemetry.schema import FACT_COLUMNS
    from medrobotics_dagster_tests.redshift_rules import assert_redshift_sql

    create = sql.create_table_sql(
        "analytics",
        "fact_procedure_telemetry",
        FACT_COLUMNS,
        "redshift",
        "procedure_key",
        ["procedure_key", "sample_timestamp"],
    )
    load = sql.redshift_load_sql(
        "analytics",
        "fact_procedure_telemetry",
        FACT_COLUMNS,
        "s3://lake/staging/_warehouse_copy/x.manifest",
        "arn:aws:iam::1:role/c",
        manifest=True,
    )
    statements = [
        sql.create_schema_sql("analytics"),
        create,
        sql.redshift_lock_sql("analytics", "fact_procedure_telemetry"),
        sql.delete_window_sql("analytics", "fact_procedure_telemetry", "sample_timestamp"),
        *load.statements,
    ]
    for statement in statements:
        assert_redshift_sql(statement)
    assert_redshift_sql(";\n".join(statements), where="the telemetry load as one script")
    assert isinstance(parse_redshift(create), exp.Create)
    assert 'DISTKEY ("procedure_key")' in create and 'SORTKEY ("procedure_key", "sample_timestamp")' in create
    assert (
        '"extra_fields" SUPER' in create
        and '"arm_position_x" NUMERIC(10,4)' in create
        and '"tool_type" VARCHAR(400)' in create
    )
    assert load.copy.rstrip().endswith("FORMAT AS PARQUET\nMANIFEST")
    assert isinstance(parse_redshift(load.copy), exp.Copy)


@pytest.mark.parametrize("bad", ["", "a\x00b"])
def test_identifiers_that_cannot_be_quoted_are_refused(bad):
    with pytest.raises(ValueError):
        sql.quote_ident(bad)


def test_column_types_follow_the_frame_with_declared_types_winning():
    import datetime as dt
    from decimal import Decimal

    frame = pd.DataFrame(
        {
            "n": pd.array([1, None], dtype="Int64"),
            "f": [1.5, None],
            "b": pd.array([True, None], dtype="boolean"),
            "s": pd.array(["x", None], dtype="string"),
            "t": pd.to_datetime(["2024-01-01 10:00", None]),
            "d": [dt.date(2024, 1, 1), None],
            "m": [Decimal("12.30"), None],
            "v": ["declared", "x"],
        }
    )
    columns = {c.name: c.type.sql("redshift") for c in columns_of(frame, {"v": parse_sql_type("VARCHAR(20)")})}
    assert columns == {
        "n": "BIGINT",
        "f": "DOUBLE PRECISION",
        "b": "BOOLEAN",
        "s": "VARCHAR(65535)",
        "t": "TIMESTAMP",
        "d": "DATE",
        "m": "NUMERIC(38,2)",
        "v": "VARCHAR(80)",
    }
    assert {c.name: c.type.sql("postgres") for c in columns_of(frame[["s"]])} == {"s": "TEXT"}
