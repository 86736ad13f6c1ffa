"""Every load leaves one audit row, committed with the load itself, and shows the same figures in its metadata."""

import dagster as dg
import pandas as pd
import pytest

from medrobotics_dagster.io_managers.audit_log import AuditRecord
from medrobotics_dagster.io_managers.frames import columns_of
from medrobotics_dagster.io_managers.warehouse_io_manager import WarehouseIOManager
from medrobotics_dagster.io_managers.warehouse_table_writer import TableTarget, TimeWindow, replace_rows
from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster_tests.database import query


def readings(day: str, count: int) -> pd.DataFrame:
    return pd.DataFrame({"taken_at": pd.date_range(f"{day} 01:00", periods=count, freq="h"), "value": range(count)})


@dg.asset(key=["staging", "readings"], partitions_def=daily_partitions, io_manager_key="warehouse_io_manager", metadata={"partition_expr": "taken_at"})
def readings_asset(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return readings(context.partition_key, 3)


def test_each_load_writes_one_audit_row_and_the_same_figures_as_metadata(warehouse_url, tmp_path):
    manager = WarehouseIOManager(warehouse=Warehouse(url=warehouse_url), lake=Lake(url=str(tmp_path)))
    result = dg.materialize([readings_asset], partition_key="2024-01-15", resources={"warehouse_io_manager": manager})
    metadata = result.asset_materializations_for_node("staging__readings")[0].metadata
    rows = query(
        warehouse_url,
        "SELECT load_id, run_id, asset_key, partition_start::text, partition_end::text, rows_read, rows_loaded, "
        "rows_quarantined, finished_at >= started_at FROM audit.etl_audit_log",
    )
    assert rows == [
        (metadata["load_id"].value, result.run_id, "staging/readings", "2024-01-15 00:00:00", "2024-01-16 00:00:00", 3, 3, 0, True)
    ]
    assert metadata["rows_loaded"].value == 3 and metadata["rows_read"].value == 3


def test_a_failed_load_leaves_no_audit_row(warehouse_url):
    warehouse = Warehouse(url=warehouse_url)
    window = TimeWindow(pd.Timestamp("2024-01-15", tz="UTC"), pd.Timestamp("2024-01-16", tz="UTC"))
    good = readings("2024-01-15", 2)
    replace_rows(warehouse, None, TableTarget("staging", "r", columns_of(good), "taken_at", window), good, AuditRecord("staging/r", "run-1"))
    bad = good.assign(value=["1", "a\x00b"])  # PostgreSQL's COPY refuses the NUL after the delete ran
    with pytest.raises(Exception):
        replace_rows(warehouse, None, TableTarget("staging", "r", columns_of(bad), "taken_at", window), bad, AuditRecord("staging/r", "run-2"))
    assert query(warehouse_url, "SELECT run_id FROM audit.etl_audit_log") == [("run-1",)]


def test_a_permanent_warehouse_fault_fails_the_load_at_once_without_retries(warehouse_url, tmp_path):
    missing = warehouse_url.rsplit("/", 1)[0] + "/mr_no_such_database"
    manager = WarehouseIOManager(warehouse=Warehouse(url=missing), lake=Lake(url=str(tmp_path)))

    @dg.asset(key=["staging", "readings"], io_manager_key="warehouse_io_manager", retry_policy=dg.RetryPolicy(max_retries=3, delay=0))
    def readings_whole() -> pd.DataFrame:
        return readings("2024-01-15", 2)

    result = dg.materialize([readings_whole], resources={"warehouse_io_manager": manager}, raise_on_error=False)
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "mr_no_such_database" in str(failure.event_specific_data.error)
