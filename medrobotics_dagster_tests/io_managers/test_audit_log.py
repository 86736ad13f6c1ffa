"""Every load leaves one audit row, committed with the load itself, and shows the same figures in its metadata."""

import dagster as dg
import pandas as pd
import psycopg2
import pytest

from medrobotics_dagster.io_managers.audit_log import AuditRecord
from medrobotics_dagster.io_managers.frames import columns_of
from medrobotics_dagster.io_managers.warehouse_io_manager import WarehouseIOManager
from medrobotics_dagster.io_managers.warehouse_table_writer import replace_rows
from medrobotics_dagster.io_managers.warehouse_tables import TableTarget, TimeWindow
from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster_tests.database import query


def readings(day: str, count: int) -> pd.DataFrame:
    return pd.DataFrame({"taken_at": pd.date_range(f"{day} 01:00", periods=count, freq="h"), "value": range(count)})


@dg.asset(
    key=["staging", "readings"],
    partitions_def=daily_partitions,
    io_manager_key="warehouse_io_manager",
    metadata={"partition_expr": "taken_at"},
)
def readings_asset(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return readings(context.partition_key, 3)


def retry_once(asset: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=asset.key,
        partitions_def=daily_partitions,
        io_manager_key="warehouse_io_manager",
        metadata={"partition_expr": "taken_at"},
        retry_policy=dg.RetryPolicy(max_retries=1, delay=0),
    )
    def retried(context: dg.AssetExecutionContext) -> pd.DataFrame:
        return readings(context.partition_key, 3)

    return retried


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
        (
            metadata["load_id"].value,
            result.run_id,
            "staging/readings",
            "2024-01-15 00:00:00",
            "2024-01-16 00:00:00",
            3,
            3,
            0,
            True,
        )
    ]
    assert metadata["rows_loaded"].value == 3 and metadata["rows_read"].value == 3


def test_a_rolled_back_load_leaves_no_succeeded_row(warehouse_url):
    warehouse = Warehouse(url=warehouse_url)
    window = TimeWindow(pd.Timestamp("2024-01-15", tz="UTC"), pd.Timestamp("2024-01-16", tz="UTC"))
    good = readings("2024-01-15", 2)
    replace_rows(
        warehouse,
        None,
        TableTarget("staging", "r", columns_of(good), "taken_at", window),
        good,
        AuditRecord("staging/r", "run-1"),
    )
    bad = good.assign(value=["1", "a\x00b"])  # PostgreSQL's COPY refuses the NUL after the delete ran
    with pytest.raises(psycopg2.errors.CharacterNotInRepertoire):
        replace_rows(
            warehouse,
            None,
            TableTarget("staging", "r", columns_of(bad), "taken_at", window),
            bad,
            AuditRecord("staging/r", "run-2"),
        )
    assert query(warehouse_url, "SELECT run_id FROM audit.etl_audit_log") == [("run-1",)]


def test_a_permanent_warehouse_fault_fails_the_load_at_once_without_retries(warehouse_url, tmp_path):
    missing = warehouse_url.rsplit("/", 1)[0] + "/mr_no_such_database"
    manager = WarehouseIOManager(warehouse=Warehouse(url=missing), lake=Lake(url=str(tmp_path)))

    @dg.asset(
        key=["staging", "readings"],
        io_manager_key="warehouse_io_manager",
        retry_policy=dg.RetryPolicy(max_retries=3, delay=0),
    )
    def readings_whole() -> pd.DataFrame:
        return readings("2024-01-15", 2)

    result = dg.materialize([readings_whole], resources={"warehouse_io_manager": manager}, raise_on_error=False)
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "mr_no_such_database" in str(failure.event_specific_data.error)


AUDITED = (
    "SELECT asset_key, partition_start::date::text, status, attempt, rows_deleted, rows_loaded, rows_quarantined, "
    "error_class, error_message FROM audit.etl_audit_log"
)


def test_a_range_load_writes_one_row_per_day_with_its_own_deleted_and_inserted_rows(warehouse_url, tmp_path):
    manager = WarehouseIOManager(warehouse=Warehouse(url=warehouse_url), lake=Lake(url=str(tmp_path)))

    @dg.asset(
        key=["staging", "readings"],
        partitions_def=daily_partitions,
        io_manager_key="warehouse_io_manager",
        metadata={"partition_expr": "taken_at"},
    )
    def varying(context: dg.AssetExecutionContext) -> pd.DataFrame:
        counts = {"2024-01-15": 3, "2024-01-16": 0, "2024-01-17": 5}
        return pd.concat([readings(day, n) for day, n in counts.items() if day in context.partition_keys and n])

    resources = {"warehouse_io_manager": manager}
    assert dg.materialize([readings_asset], partition_key="2024-01-15", resources=resources).success  # 3 rows
    tags = {"dagster/asset_partition_range_start": "2024-01-15", "dagster/asset_partition_range_end": "2024-01-17"}
    result = dg.materialize([varying], tags=tags, resources=resources)
    rows = query(warehouse_url, AUDITED + " WHERE run_id = %s ORDER BY 2", (result.run_id,))
    assert rows == [
        ("staging/readings", "2024-01-15", "succeeded", 1, 3, 3, 0, None, None),
        ("staging/readings", "2024-01-16", "succeeded", 1, 0, 0, 0, None, None),
        ("staging/readings", "2024-01-17", "succeeded", 1, 0, 5, 0, None, None),
    ]


def test_a_failed_load_writes_a_retried_then_a_failed_row_in_their_own_transactions(warehouse_url, tmp_path):
    lake = Lake(url=str(tmp_path))
    assert dg.materialize(
        [readings_asset],
        partition_key="2024-01-15",
        resources={"warehouse_io_manager": WarehouseIOManager(warehouse=Warehouse(url=warehouse_url), lake=lake)},
    ).success
    impatient = WarehouseIOManager(warehouse=Warehouse(url=warehouse_url, statement_timeout_s=1), lake=lake)
    locker = psycopg2.connect(warehouse_url)  # another session holds the table: each attempt times out (57014)
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE staging.readings IN ACCESS EXCLUSIVE MODE")
        result = dg.materialize(
            [retry_once(readings_asset)],
            partition_key="2024-01-16",
            resources={"warehouse_io_manager": impatient},
            raise_on_error=False,
        )
    finally:
        locker.rollback()
        locker.close()
    assert not result.success
    rows = query(warehouse_url, AUDITED + " WHERE status <> 'succeeded' ORDER BY attempt")
    assert [row[:8] for row in rows] == [
        ("staging/readings", "2024-01-16", "retried", 1, 0, 0, 0, "QueryCanceled"),
        ("staging/readings", "2024-01-16", "failed", 2, 0, 0, 0, "QueryCanceled"),
    ]
    assert all("statement timeout" in row[8] for row in rows)


def test_a_failed_extract_writes_a_failed_row(warehouse_url, tmp_path):
    from medrobotics_dagster.defs.staging.operational_extracts import extract_assets, staging_key
    from medrobotics_dagster.resources.databases import SourceDatabase
    from medrobotics_dagster.resources.pseudonymizer import Pseudonymizer

    [procedures] = [a for a in extract_assets if a.key == staging_key("surgical_procedures")]
    warehouse = Warehouse(url=warehouse_url)
    resources = {
        "source_db": SourceDatabase(url=warehouse_url),  # an empty database: no surgical_procedures table
        "pseudonymizer": Pseudonymizer(key="k" * 32),
        "warehouse": warehouse,
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse, lake=Lake(url=str(tmp_path))),
    }
    result = dg.materialize([procedures], partition_key="2024-01-15", resources=resources, raise_on_error=False)
    assert not result.success
    [(asset, day, status, attempt, deleted, loaded, quarantined, error_class, message)] = query(warehouse_url, AUDITED)
    assert (asset, day, status, attempt, error_class) == (
        "staging/surgical_procedures",
        "2024-01-15",
        "failed",
        1,
        "UndefinedTable",
    )
    assert "surgical_procedures" in message and "does not exist" in message


OLD_AUDIT_TABLE = """CREATE SCHEMA audit; CREATE TABLE audit.etl_audit_log (
    load_id varchar(36) NOT NULL, run_id varchar(64), asset_key varchar(300) NOT NULL, partition_start timestamp,
    partition_end timestamp, rows_read bigint, rows_loaded bigint, rows_quarantined bigint,
    started_at timestamp NOT NULL, finished_at timestamp NOT NULL);
INSERT INTO audit.etl_audit_log VALUES
    ('old', 'run-0', 'staging/readings', '2024-01-14', '2024-01-15', 1, 1, 0, now(), now())"""


def test_an_existing_audit_table_gains_the_new_columns_and_keeps_its_rows(warehouse_url, tmp_path):
    conn = psycopg2.connect(warehouse_url)
    with conn, conn.cursor() as cur:
        cur.execute(OLD_AUDIT_TABLE)
    conn.close()
    manager = WarehouseIOManager(warehouse=Warehouse(url=warehouse_url), lake=Lake(url=str(tmp_path)))
    assert dg.materialize(
        [readings_asset], partition_key="2024-01-15", resources={"warehouse_io_manager": manager}
    ).success
    assert query(warehouse_url, "SELECT load_id, status, rows_loaded FROM audit.etl_audit_log ORDER BY started_at") == [
        ("old", None, 1),
        (
            query(warehouse_url, "SELECT max(load_id) FROM audit.etl_audit_log WHERE load_id <> 'old'")[0][0],
            "succeeded",
            3,
        ),
    ]
