"""Every check of every asset a run materializes is evaluated in that run, on each way assets get materialized:
the demo's runs, each operations job and the telemetry sensor's run of a day (the daily schedule's run: its own
test in operations/test_jobs_and_schedule.py asserts it too)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from medrobotics_dagster.defs.telemetry.raw_files import RAW_TELEMETRY_PREFIX, parse_key
from medrobotics_dagster.defs.telemetry.sensor import evaluate
from medrobotics_dagster.materialize import materialize_everything
from medrobotics_dagster.resources.databases import SourceDatabase
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.staleness import partition_range, procedure_days
from medrobotics_dagster.synthetic.generator import generate
from medrobotics_dagster_tests.database import query

pytestmark = pytest.mark.long

# the world of test_jobs_and_schedule.py, whose busiest day loads with every check passing
FIRST_DAY, LAST_DAY = date(2024, 2, 1), date(2024, 3, 8)


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from medrobotics_dagster.definitions import defs

    return defs


@pytest.fixture
def world(source_url, warehouse_url, tmp_path, monkeypatch) -> tuple[str, Lake]:
    """Five weeks of a small generated world, configured through the environment like an operator would."""
    lake_dir = tmp_path / "lake"
    monkeypatch.setenv("MEDROBOTICS_SOURCE_DB_URL", source_url)
    monkeypatch.setenv("MEDROBOTICS_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("MEDROBOTICS_LAKE_URL", str(lake_dir))
    lake = Lake(url=str(lake_dir))
    generate(source_url, lake, scale=0.006, seed=7, start=FIRST_DAY, end=LAST_DAY)
    return source_url, lake


def busiest_day(source_url: str) -> date:
    sql = (
        "SELECT (start_time AT TIME ZONE 'UTC')::date FROM surgical_procedures"
        " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    )
    return query(source_url, sql)[0][0]


def events(instance: dg.DagsterInstance, run_id: str, event_type: dg.DagsterEventType) -> list:
    return [entry.dagster_event for entry in instance.all_logs(run_id, of_type=event_type)]


def unevaluated_checks(defs: dg.Definitions, instance: dg.DagsterInstance) -> dict[str, list[str]]:
    """Per run of the instance: the checks of the assets it materialized that it did not evaluate."""
    graph = defs.resolve_asset_graph()
    missing = {}
    for record in instance.get_run_records():
        run_id = record.dagster_run.run_id
        materialized = {e.asset_key for e in events(instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION)}
        assert materialized, f"run {record.dagster_run.job_name} materialized nothing"
        evaluated = {
            e.event_specific_data.asset_check_key
            for e in events(instance, run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        }
        expected = graph.get_check_keys_for_assets(materialized)
        if expected - evaluated:
            missing[record.dagster_run.job_name] = sorted(k.to_user_string() for k in expected - evaluated)
    return missing


def run_job(defs, instance, name: str, partition_key: str | None = None, tags=None) -> None:
    job = defs.resolve_job_def(name)
    assert job.execute_in_process(instance=instance, partition_key=partition_key, tags=tags).success


def test_the_demos_runs_evaluate_every_check_of_what_they_materialize(defs, world):
    instance = dg.DagsterInstance.ephemeral()
    materialize_everything(defs, instance, partition_range(procedure_days(SourceDatabase())))
    assert len(instance.get_run_records()) == 3  # dimensions, the days, the views
    assert unevaluated_checks(defs, instance) == {}


def test_the_dimensions_and_procedures_jobs_and_the_sensors_run_evaluate_the_checks_of_their_assets(defs, world):
    source_url, lake = world
    day = busiest_day(source_url).isoformat()
    instance = dg.DagsterInstance.ephemeral()
    run_job(defs, instance, "dimensions_job")
    run_job(defs, instance, "procedures_job", partition_key=day)
    # the sensor's run request for the files of one day
    files = [o for o in lake.list(RAW_TELEMETRY_PREFIX) if (raw := parse_key(o)) and raw.day.isoformat() == day]
    [request], _ = evaluate(files, None, set(), datetime.now(UTC), _RefuseWarnings())
    assert request.partition_key == day
    run_job(defs, instance, "telemetry_files_job", request.partition_key, request.tags)
    assert unevaluated_checks(defs, instance) == {}


class _RefuseWarnings:
    """The sensor's log: a warning (a skipped file of the generated world) fails the test."""

    def warning(self, text: str) -> None:
        raise AssertionError(text)


def test_the_telemetry_procedure_relationship_is_a_check_of_fact_procedures_not_an_observation(defs):
    """A singular dbt test of two parents is a check only when its meta names the model it belongs to (dagster.ref);
    named by asset key it ran in every daily dbt step as an observation, with a warning in the run's log."""
    fact_procedures = dg.AssetKey(["warehouse", "fact_procedures"])
    check = dg.AssetCheckKey(fact_procedures, "telemetry_procedure_key_in_fact_procedures")
    assert check in defs.resolve_asset_graph().asset_check_keys
