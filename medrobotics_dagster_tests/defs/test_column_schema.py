"""The Python assets' columns as Dagster's column schema (`dagster/column_schema`), from the one owner of their types,
and the same schema read back by the IO managers as the types they load with."""

import dagster as dg
import pytest

from medrobotics_dagster.column_schema import COLUMN_SCHEMA, declared_column_types
from medrobotics_dagster.defs.telemetry.schema import FACT_COLUMNS, QUARANTINE_COLUMNS

TELEMETRY_COLUMNS = {
    "lake/telemetry_samples": FACT_COLUMNS,
    "warehouse/fact_procedure_telemetry": FACT_COLUMNS,
    "warehouse/telemetry_quarantine": QUARANTINE_COLUMNS,
}


@pytest.fixture(scope="module")
def graph():
    from medrobotics_dagster.definitions import defs

    return defs.resolve_asset_graph()


@pytest.mark.parametrize("asset", sorted(TELEMETRY_COLUMNS))
def test_telemetry_assets_declare_their_columns_as_column_schema(graph, asset):
    metadata = graph.get(dg.AssetKey.from_user_string(asset)).metadata
    schema = metadata[COLUMN_SCHEMA]
    assert isinstance(schema, dg.TableSchema)  # what the UI shows as the columns
    columns = TELEMETRY_COLUMNS[asset]
    assert [(c.name, c.type) for c in schema.columns] == [(c.name, c.type.sql("postgres")) for c in columns]
    assert [c.constraints.nullable for c in schema.columns] == [c.nullable for c in columns]
    assert "column_types" not in metadata  # no second, JSON copy of the same types
    # what the IO managers load with: the declared types themselves, NUMERIC(10,4) and JSON included
    assert declared_column_types(metadata) == {c.name: c.type for c in columns}


def test_a_schema_type_the_loaders_cannot_read_is_refused():
    bad = {COLUMN_SCHEMA: dg.TableSchema(columns=[dg.TableColumn("x", "GEOMETRY")])}
    with pytest.raises(ValueError, match="unsupported column type 'GEOMETRY'"):
        declared_column_types(bad)


def test_an_asset_without_a_schema_declares_no_types():
    assert declared_column_types({"partition_expr": "start_time"}) == {}
    assert declared_column_types(None) == {}
