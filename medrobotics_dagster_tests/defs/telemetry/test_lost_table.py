"""A warehouse table that Dagster lists loaded partitions of, but which was renamed, dropped or lost a column:
the next load fails at once (not retried) naming the table and the rebuild, and never re-creates it empty."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from medrobotics_dagster.defs.telemetry.assets import FACT_KEY, telemetry_assets
from medrobotics_dagster.io_managers.warehouse_tables import REBUILD_TAG
from medrobotics_dagster_tests.database import execute, query
from medrobotics_dagster_tests.defs.telemetry.telemetry_world import resources
from medrobotics_dagster_tests.defs.telemetry.test_telemetry_assets import lines

DAY_ONE, DAY_TWO = date(2024, 1, 15), date(2024, 1, 16)
FACT = "analytics.fact_procedure_telemetry"


def run(world, instance, day: date, tags=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        telemetry_assets,
        partition_key=day.isoformat(),
        instance=instance,
        tags=tags,
        resources=resources(world.warehouse_url, world.lake_url),
        raise_on_error=False,
    )


@pytest.fixture
def loaded(world):
    """Day one loaded (Dagster now lists a partition of the fact), day two's file waiting."""
    world.put("PROC-A", DAY_ONE, lines("PROC-A", DAY_ONE, range(20)))
    world.put("PROC-C", DAY_TWO, lines("PROC-C", DAY_TWO, range(7)))
    instance = dg.DagsterInstance.ephemeral()
    assert run(world, instance, DAY_ONE).success
    return world, instance


def fact_failure(result: dg.ExecuteInProcessResult) -> str:
    assert not result.success
    events = result.all_events
    assert not [e for e in events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY], (
        "a lost table is not retried"
    )
    [failure] = [e for e in events if e.is_step_failure and e.step_key == FACT_KEY.to_python_identifier()]
    return failure.step_failure_data.user_failure_data.description


def tables(url: str) -> list[str]:
    return [
        name
        for (name,) in query(
            url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'analytics' ORDER BY 1"
        )
    ]


def test_a_renamed_fact_fails_the_next_load_and_is_not_recreated(loaded):
    world, instance = loaded
    execute(world.warehouse_url, f"ALTER TABLE {FACT} RENAME TO fact_procedure_telemetry_old")
    message = fact_failure(run(world, instance, DAY_TWO))
    assert f"{FACT} does not exist, but Dagster lists 1 materialized partition(s)" in message
    assert f"{REBUILD_TAG}=true" in message and "\n" not in message
    assert "fact_procedure_telemetry" not in tables(world.warehouse_url)  # no new table holding one day
    assert query(world.warehouse_url, "SELECT count(*) FROM analytics.fact_procedure_telemetry_old") == [(20,)]


def test_a_dropped_fact_fails_the_next_load_until_an_explicit_rebuild(loaded):
    world, instance = loaded
    execute(world.warehouse_url, f"DROP TABLE {FACT}")
    assert f"{FACT} does not exist" in fact_failure(run(world, instance, DAY_TWO))
    assert "fact_procedure_telemetry" not in tables(world.warehouse_url)
    # the rebuild: every day again, in a run tagged as one
    rebuild = {
        REBUILD_TAG: "true",
        "dagster/asset_partition_range_start": "2024-01-15",
        "dagster/asset_partition_range_end": "2024-01-16",
    }
    assert dg.materialize(
        telemetry_assets, instance=instance, tags=rebuild, resources=resources(world.warehouse_url, world.lake_url)
    ).success
    assert query(world.warehouse_url, f"SELECT count(*) FROM {FACT}") == [(27,)]


def test_a_fact_that_lost_a_column_fails_the_next_load_naming_both_shapes(loaded):
    world, instance = loaded
    execute(world.warehouse_url, f"ALTER TABLE {FACT} DROP COLUMN extra_fields")
    message = fact_failure(run(world, instance, DAY_TWO))
    assert (
        f"{FACT} has changed shape (lacks extra_fields)" in message
        and "\n" not in message
        and f"{REBUILD_TAG}=true" in message
    )
    assert query(world.warehouse_url, f"SELECT count(*) FROM {FACT}") == [(20,)]  # untouched


def test_a_first_load_creates_the_table(world):
    world.put("PROC-C", DAY_TWO, lines("PROC-C", DAY_TWO, range(7)))
    assert run(world, dg.DagsterInstance.ephemeral(), DAY_TWO).success
    assert query(world.warehouse_url, f"SELECT count(*) FROM {FACT}") == [(7,)]


def test_the_views_do_not_recreate_a_lost_fact_empty(warehouse_url):
    """The views step creates a never-loaded fact empty, but not one Dagster lists loaded days of."""
    from medrobotics_dagster.defs.telemetry.schema import FACT_COLUMNS
    from medrobotics_dagster.io_managers.warehouse_tables import LostTable, TableTarget, create_if_missing
    from medrobotics_dagster.resources.databases import Warehouse

    warehouse = Warehouse(url=warehouse_url)
    lost = TableTarget("analytics", "fact_procedure_telemetry", FACT_COLUMNS, known_partitions=3)
    with pytest.raises(LostTable, match=f"{FACT} does not exist, but Dagster lists 3 materialized partition"):
        create_if_missing(warehouse, lost)
    assert "fact_procedure_telemetry" not in tables(warehouse_url)
    create_if_missing(warehouse, TableTarget("analytics", "fact_procedure_telemetry", FACT_COLUMNS))  # never loaded
    assert "fact_procedure_telemetry" in tables(warehouse_url)
    create_if_missing(warehouse, lost)  # present: nothing to do


def test_the_sensors_job_with_its_dbt_step_does_not_recreate_a_renamed_fact(world):
    """The file sensor's job runs the staging sources' dbt tests before the fact loads: dbt's on-run-start hook
    must not re-create the lost fact empty ahead of the loader's check."""
    from medrobotics_dagster.defs.staging.operational_extracts import extract_assets
    from medrobotics_dagster.defs.telemetry.sensor import telemetry_job
    from medrobotics_dagster.defs.warehouse.dbt_assets import daily_fact_models
    from medrobotics_dagster.defs.warehouse.dbt_project import dbt_cli_resource

    job = dg.Definitions(
        assets=[*extract_assets, *telemetry_assets, daily_fact_models],
        jobs=[telemetry_job],
        resources={**resources(world.warehouse_url, world.lake_url, world.source_url), "dbt": dbt_cli_resource()},
    ).resolve_job_def(telemetry_job.name)
    instance = dg.DagsterInstance.ephemeral()
    world.put("PROC-A", DAY_ONE, lines("PROC-A", DAY_ONE, range(20)))
    assert job.execute_in_process(instance=instance, partition_key=DAY_ONE.isoformat()).success
    execute(world.warehouse_url, f"ALTER TABLE {FACT} RENAME TO fact_procedure_telemetry_old")
    world.put("PROC-C", DAY_TWO, lines("PROC-C", DAY_TWO, range(7)))
    result = job.execute_in_process(instance=instance, partition_key=DAY_TWO.isoformat(), raise_on_error=False)
    assert f"{FACT} does not exist, but Dagster lists 1 materialized partition(s)" in fact_failure(result)
    assert "fact_procedure_telemetry" not in tables(world.warehouse_url)
