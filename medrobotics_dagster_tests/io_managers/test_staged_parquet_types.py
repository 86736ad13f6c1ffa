"""Every Parquet object staged for Redshift COPY of a generated world matches its table column by column
(REDSHIFT_PARQUET_TYPES): INT32 for INTEGER, the declared DECIMAL precision and scale, never a Null type."""

import io
from datetime import datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from medrobotics_dagster.column_types import ColumnType, arrow_schema
from medrobotics_dagster.defs.staging.operational_extracts import EXTRACTS
from medrobotics_dagster.defs.telemetry.schema import FACT_COLUMNS
from medrobotics_dagster.io_managers.frames import columns_of, to_arrow, to_parquet
from medrobotics_dagster.resources.databases import SourceDatabase
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.synthetic.generator import generate


def expected_parquet(kind: ColumnType) -> tuple[str, str]:
    """(physical type, logical type) Redshift's Parquet COPY needs for a column of this type."""
    return {
        "boolean": ("BOOLEAN", "None"),
        "smallint": ("INT32", "Int(bitWidth=16, isSigned=true)"),
        "integer": ("INT32", "None"),
        "bigint": ("INT64", "None"),
        "real": ("FLOAT", "None"),
        "double": ("DOUBLE", "None"),
        "varchar": ("BYTE_ARRAY", "String"),
        "json": ("BYTE_ARRAY", "String"),
        "date": ("INT32", "Date"),
        "timestamp": (
            "INT64",
            "Timestamp(isAdjustedToUTC=false, timeUnit=microseconds, is_from_converted_type=false, "
            "force_set_converted_type=false)",
        ),
    }.get(kind.kind) or ("FIXED_LEN_BYTE_ARRAY", f"Decimal(precision={kind.precision}, scale={kind.scale})")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    import uuid

    import psycopg2

    name = f"mr_test_parquet_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    generate(url, Lake(url=str(tmp_path_factory.mktemp("lake"))), scale=0.02, seed=5)
    yield SourceDatabase(url=url)
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.mark.parametrize("extract", EXTRACTS, ids=lambda e: e.table)
@pytest.mark.parametrize("rows", ["all", "none"])
def test_staged_parquet_of_each_extract_matches_its_table(world, extract, rows):
    params = (
        {"start": "2000-01-01", "end": "2100-01-01" if rows == "all" else "2000-01-01"}
        if extract.partition_expr
        else None
    )
    frame = world.read_frame(extract.query, params)
    if rows == "none" and not extract.partition_expr:
        frame = frame.iloc[0:0]
        frame.attrs = world.read_frame(extract.query).attrs
    if rows == "all":  # an all-NULL column in a batch must still carry its type, not Parquet's Null
        frame.iloc[:, -1] = None
    columns = columns_of(frame)
    staged = pq.ParquetFile(io.BytesIO(to_parquet(to_arrow(frame, columns))))
    for column, parquet in zip(columns, staged.schema, strict=True):
        got = (parquet.physical_type, str(parquet.logical_type))
        if column.type.kind == "numeric":
            assert got[1] == expected_parquet(column.type)[1], column.name
        else:
            assert got == expected_parquet(column.type), column.name


def test_source_strings_are_sized_in_bytes_for_redshift(world):
    frame = world.read_frame("SELECT * FROM facilities")
    types = {c.name: c.type for c in columns_of(frame)}
    assert types["facility_name"].sql("postgres") == "VARCHAR(200)"
    assert types["facility_name"].sql("redshift") == "VARCHAR(800)"  # 200 characters of up to 4 UTF-8 bytes
    assert types["facility_id"].sql("redshift") == "VARCHAR(200)"


def test_text_columns_are_dictionary_encoded_and_measurements_plain():
    """Dictionary pages shrink repeated ids; on measurements, almost all distinct, they only cost time and bytes."""
    schema = arrow_schema(FACT_COLUMNS)
    rows = 500

    def values(field: pa.Field) -> pa.Array:
        if pa.types.is_string(field.type):
            return pa.array([f"PROC-{n % 3}" for n in range(rows)], field.type)
        if pa.types.is_boolean(field.type):
            return pa.array([n % 2 == 0 for n in range(rows)])
        if pa.types.is_timestamp(field.type):
            return pa.array([datetime(2024, 1, 1) + timedelta(seconds=n) for n in range(rows)], field.type)
        if pa.types.is_decimal(field.type):
            return pa.array([Decimal(n) / 100 for n in range(rows)], field.type)
        return pa.array(range(rows), field.type)

    table = pa.Table.from_arrays([values(field) for field in schema], schema=schema)
    row_group = pq.ParquetFile(io.BytesIO(to_parquet(table))).metadata.row_group(0)
    encodings = {row_group.column(i).path_in_schema: row_group.column(i).encodings for i in range(table.num_columns)}
    dictionary = {name for name, used in encodings.items() if "RLE_DICTIONARY" in used or "PLAIN_DICTIONARY" in used}
    assert dictionary == {field.name for field in schema if pa.types.is_string(field.type)}
