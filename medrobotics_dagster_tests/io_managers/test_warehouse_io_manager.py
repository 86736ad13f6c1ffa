"""The warehouse IO manager against a real PostgreSQL: partition replacement, atomicity, metadata."""

import dagster as dg
import pandas as pd
import psycopg2
import pytest

from medrobotics_dagster.io_managers.frames import columns_of
from medrobotics_dagster.io_managers.warehouse_io_manager import WarehouseIOManager
from medrobotics_dagster.io_managers.warehouse_table_writer import replace_rows
from medrobotics_dagster.io_managers.warehouse_tables import TableTarget, TimeWindow, WarehouseLoadError
from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster_tests.database import query


def readings(day: str, count: int, value: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "reading_id": [f"{day}-{i}" for i in range(count)],
            "taken_at": pd.date_range(f"{day} 08:00", periods=count, freq="h", tz="UTC"),
            "value": [value + i for i in range(count)],
        }
    )


def load(warehouse, lake, table, frame, partition_expr=None, window=None) -> int:
    """replace_rows into staging.<table> with the frame's own column types."""
    return replace_rows(
        warehouse, lake, TableTarget("staging", table, columns_of(frame), partition_expr, window), frame
    ).rows


@pytest.fixture
def io_manager(warehouse_url, tmp_path) -> WarehouseIOManager:
    return WarehouseIOManager(warehouse=Warehouse(url=warehouse_url), lake=Lake(url=str(tmp_path / "lake")))


def daily_readings_asset(frames: dict[str, pd.DataFrame]):
    @dg.asset(
        key=["staging", "readings"],
        partitions_def=daily_partitions,
        io_manager_key="warehouse_io_manager",
        metadata={"partition_expr": "taken_at"},
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def readings_asset(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return pd.concat([frames[k] for k in context.partition_keys])

    return readings_asset


def test_a_partition_rematerialized_three_times_keeps_the_same_rows(io_manager, warehouse_url):
    frames = {"2024-01-15": readings("2024-01-15", 5), "2024-01-16": readings("2024-01-16", 3)}
    asset = daily_readings_asset(frames)
    for key in frames:
        assert dg.materialize([asset], partition_key=key, resources={"warehouse_io_manager": io_manager}).success
    before = query(warehouse_url, "SELECT * FROM staging.readings ORDER BY reading_id")
    for _ in range(3):
        result = dg.materialize([asset], partition_key="2024-01-15", resources={"warehouse_io_manager": io_manager})
        materialization = result.asset_materializations_for_node("staging__readings")[0]
        assert materialization.metadata["dagster/row_count"].value == 5
        assert materialization.metadata["table"].value == "staging.readings"
        schema = materialization.metadata["dagster/column_schema"].schema  # the columns as loaded, for the UI
        assert [(c.name, c.type) for c in schema.columns] == [
            ("reading_id", "TEXT"),
            ("taken_at", "TIMESTAMP"),
            ("value", "DOUBLE PRECISION"),
        ]
    assert query(warehouse_url, "SELECT * FROM staging.readings ORDER BY reading_id") == before
    assert len(before) == 8


def test_a_changed_partition_replaces_only_its_own_rows(io_manager, warehouse_url):
    frames = {"2024-01-15": readings("2024-01-15", 5), "2024-01-16": readings("2024-01-16", 3)}
    asset = daily_readings_asset(frames)
    for key in frames:
        dg.materialize([asset], partition_key=key, resources={"warehouse_io_manager": io_manager})
    frames["2024-01-15"] = readings("2024-01-15", 2, value=100.0)  # two rows deleted at the source, values changed
    dg.materialize([asset], partition_key="2024-01-15", resources={"warehouse_io_manager": io_manager})
    got = query(
        warehouse_url, "SELECT taken_at::date::text, count(*), sum(value) FROM staging.readings GROUP BY 1 ORDER BY 1"
    )
    assert got == [("2024-01-15", 2, 201.0), ("2024-01-16", 3, 6.0)]


def test_a_range_is_replaced_in_one_run_and_read_back_by_window(io_manager, warehouse_url):
    frames = {d: readings(d, 2) for d in ("2024-02-01", "2024-02-02", "2024-02-03")}
    asset = daily_readings_asset(frames)

    @dg.asset(
        partitions_def=daily_partitions,
        ins={"readings": dg.AssetIn(key=["staging", "readings"])},
        io_manager_key="mem",
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def reading_count(readings: pd.DataFrame) -> int:
        return len(readings)

    result = dg.materialize(
        [asset, reading_count],
        resources={"warehouse_io_manager": io_manager, "mem": dg.InMemoryIOManager()},
        tags={"dagster/asset_partition_range_start": "2024-02-01", "dagster/asset_partition_range_end": "2024-02-03"},
    )
    assert result.success
    assert query(warehouse_url, "SELECT count(*) FROM staging.readings") == [(6,)]
    assert result.output_for_node("reading_count") == 6


def test_rows_outside_the_partition_window_are_refused(io_manager, warehouse_url):
    asset = daily_readings_asset({"2024-01-15": readings("2024-01-16", 1)})
    result = dg.materialize(
        [asset], partition_key="2024-01-15", resources={"warehouse_io_manager": io_manager}, raise_on_error=False
    )
    assert not result.success
    errors = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "outside" in str(errors[0].event_specific_data.error)


def test_a_load_failing_after_the_delete_leaves_the_previous_rows(warehouse_url):
    warehouse = Warehouse(url=warehouse_url)
    window = TimeWindow(pd.Timestamp("2024-01-15", tz="UTC"), pd.Timestamp("2024-01-16", tz="UTC"))
    load(warehouse, None, "readings", readings("2024-01-15", 4), "taken_at", window)
    broken = readings("2024-01-15", 4)
    broken["reading_id"] = ["a", "b", "NUL \x00 byte", "d"]  # PostgreSQL's COPY rejects it after the DELETE ran
    with pytest.raises(psycopg2.DataError):
        load(warehouse, None, "readings", broken, "taken_at", window)
    assert query(warehouse_url, "SELECT count(*), sum(value) FROM staging.readings") == [(4, 10.0)]


def test_unpartitioned_tables_are_replaced_whole_and_may_change_shape(warehouse_url):
    warehouse = Warehouse(url=warehouse_url)
    load(warehouse, None, "facilities", pd.DataFrame({"facility_id": ["FAC-001", "FAC-002"]}))
    load(warehouse, None, "facilities", pd.DataFrame({"facility_id": ["FAC-002"], "bed_count": [400]}))
    assert query(warehouse_url, "SELECT facility_id, bed_count FROM staging.facilities") == [("FAC-002", 400)]


def test_empty_extracts_keep_declared_types(warehouse_url):
    warehouse = Warehouse(url=warehouse_url)
    empty = pd.DataFrame({"procedure_id": [], "start_time": []})
    empty.attrs["column_types"] = {"procedure_id": "VARCHAR(100)", "start_time": "TIMESTAMP"}
    window = TimeWindow(pd.Timestamp("2024-01-15", tz="UTC"), pd.Timestamp("2024-01-16", tz="UTC"))
    assert load(warehouse, None, "procs", empty, "start_time", window) == 0
    types = query(
        warehouse_url,
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'procs' ORDER BY ordinal_position",
    )
    assert types == [("character varying",), ("timestamp without time zone",)]


def test_a_partitioned_table_refuses_a_frame_of_another_shape(warehouse_url):
    warehouse = Warehouse(url=warehouse_url)
    window = TimeWindow(pd.Timestamp("2024-01-15", tz="UTC"), pd.Timestamp("2024-01-16", tz="UTC"))
    load(warehouse, None, "readings", readings("2024-01-15", 2), "taken_at", window)
    with pytest.raises(WarehouseLoadError, match="cannot change shape"):
        load(warehouse, None, "readings", readings("2024-01-15", 2).drop(columns="value"), "taken_at", window)


def test_redshift_loads_without_an_iam_role_are_refused_before_touching_data(warehouse_url, tmp_path):
    warehouse = Warehouse(url=warehouse_url, dialect="redshift")
    with pytest.raises(WarehouseLoadError, match="IAM role"):
        load(warehouse, Lake(url=str(tmp_path)), "facilities", pd.DataFrame({"facility_id": ["x"]}))
