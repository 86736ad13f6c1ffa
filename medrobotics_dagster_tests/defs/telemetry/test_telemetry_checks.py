"""The telemetry fact's own asset check, run with the load on the run's window: passes on a clean load, and its
query counts rows that break the keys (planted directly in the table)."""

from datetime import datetime, timedelta

import dagster as dg

from medrobotics_dagster.defs.sources.raw_telemetry import raw_telemetry_spec
from medrobotics_dagster.defs.staging.operational_extracts import extract_assets
from medrobotics_dagster.defs.telemetry.assets import telemetry_assets
from medrobotics_dagster.defs.telemetry.checks import key_problems, telemetry_checks
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster_tests.database import execute
from medrobotics_dagster_tests.defs.telemetry.telemetry_world import resources
from medrobotics_dagster_tests.defs.telemetry.test_telemetry_assets import DAY, lines


def run(world) -> dict:
    """One in-process run of the telemetry assets and their checks for DAY."""
    job = dg.define_asset_job("telemetry_with_checks", selection=dg.AssetSelection.assets(*telemetry_assets))
    defs = dg.Definitions(
        assets=[raw_telemetry_spec, *extract_assets, *telemetry_assets],
        asset_checks=telemetry_checks,
        jobs=[job],
        resources=resources(world.warehouse_url, world.lake_url, world.source_url),
    )
    result = defs.resolve_job_def("telemetry_with_checks").execute_in_process(
        partition_key=DAY.isoformat(), raise_on_error=False
    )
    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    return {e.check_name: e for e in evaluations}


def test_the_key_check_passes_on_a_clean_load_and_counts_broken_keys(world):
    world.put("PROC-A", DAY, lines("PROC-A", DAY, range(4)))
    check = run(world)["telemetry_fact_keys_valid"]
    assert check.passed and check.metadata["rows"].value == 4
    # rows another writer slipped in: a duplicate key and an impossible minute
    execute(
        world.warehouse_url,
        "INSERT INTO analytics.fact_procedure_telemetry (telemetry_key, procedure_key, timestamp_key, "
        "sample_timestamp, procedure_id, created_at) "
        "SELECT telemetry_key, procedure_key, 126100, sample_timestamp, procedure_id, created_at "
        "FROM analytics.fact_procedure_telemetry LIMIT 1",
    )
    # the load would replace the window: ask the check's query directly
    start = datetime(DAY.year, DAY.month, DAY.day)
    problems = key_problems(Warehouse(url=world.warehouse_url), start, start + timedelta(days=1))
    assert problems == {"rows": 5, "duplicate_telemetry_keys": 1, "rows_with_null_keys": 0, "invalid_timestamp_keys": 1}
