"""Run-mode jobs and the 03:00 UTC schedule: what each job selects, which day a tick loads, and a real
scheduled run that builds dimensions, then yesterday's facts, then the views, in that order, and evaluates every
check of what it builds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from medrobotics_dagster.defs.operations.jobs import RUN_MODES
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.synthetic.generator import generate
from medrobotics_dagster_tests.database import query
from medrobotics_dagster_tests.defs.test_checks_run_where_assets_materialize import unevaluated_checks


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from medrobotics_dagster.definitions import defs

    return defs


def selected(defs, job_name: str) -> set[str]:
    return {k.to_user_string() for k in defs.resolve_job_def(job_name).asset_layer.selected_asset_keys}


def test_each_run_mode_is_a_job(defs):
    assert {mode: job.name for mode, job in RUN_MODES.items()} == {
        "full": "full_load_job",
        "dimensions": "dimensions_job",
        "procedures": "procedures_job",
        "telemetry": "telemetry_files_job",
    }
    dims = selected(defs, "dimensions_job")
    assert {
        "staging/facilities",
        "staging/surgeons",
        "staging/surgical_robots",
        "warehouse/snap_robots",
        "warehouse/dim_robots",
        "warehouse/dim_surgeons",
        "warehouse/dim_facilities",
        "warehouse/dim_date",
        "warehouse/dim_time",
    } <= dims
    assert not any("fact" in k or "/vw_" in k or "surgical_procedures" in k for k in dims)
    assert defs.resolve_job_def("dimensions_job").partitions_def is None
    assert selected(defs, "procedures_job") == {
        "staging/surgical_procedures",
        "staging/procedure_outcomes",
        "warehouse/fact_procedures",
        "warehouse/fact_procedures_quarantine",
    }
    assert "warehouse/fact_procedure_telemetry" in selected(defs, "telemetry_files_job")
    full = selected(defs, "full_load_job")
    graph = defs.resolve_asset_graph()
    assert full == {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}


@pytest.mark.parametrize(
    "scheduled, expected",
    [
        (datetime(2024, 3, 10, 3, 0, tzinfo=UTC), "2024-03-09"),
        (datetime(2024, 1, 1, 3, 0, tzinfo=UTC), "2023-12-31"),  # across a year end
        (datetime(2024, 3, 1, 3, 0, tzinfo=UTC), "2024-02-29"),  # leap day
    ],
)
def test_the_schedule_loads_the_day_before_its_scheduled_time(defs, scheduled, expected):
    schedule = defs.resolve_schedule_def("daily_warehouse_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 3 * * *", "UTC")
    assert schedule.job_name == "full_load_job"
    [request] = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=scheduled)).run_requests
    assert request.partition_key == expected


def test_a_late_or_caught_up_tick_loads_the_day_it_was_scheduled_for(defs):
    """The daemon was down for two days: it evaluates the missed ticks now, each with its own scheduled time."""
    schedule = defs.resolve_schedule_def("daily_warehouse_schedule")
    missed = [datetime(2024, 3, d, 3, 0, tzinfo=UTC) for d in (8, 9, 10)]
    days = [
        schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=t)).run_requests[0].partition_key
        for t in missed
    ]
    assert days == ["2024-03-07", "2024-03-08", "2024-03-09"]


@pytest.fixture
def small_world(source_url, warehouse_url, tmp_path, monkeypatch):
    lake_dir = tmp_path / "lake"
    monkeypatch.setenv("MEDROBOTICS_SOURCE_DB_URL", source_url)
    monkeypatch.setenv("MEDROBOTICS_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("MEDROBOTICS_LAKE_URL", str(lake_dir))
    generate(source_url, Lake(url=str(lake_dir)), scale=0.006, seed=7, start=date(2024, 2, 1), end=date(2024, 3, 8))
    return source_url, warehouse_url


def test_the_scheduled_run_builds_dimensions_then_yesterdays_facts_then_the_views(defs, small_world):
    source_url, warehouse_url = small_world
    # the busiest day of the generated history; its schedule tick is the next day at 03:00 UTC
    busiest = query(
        source_url,
        "SELECT (start_time AT TIME ZONE 'UTC')::date "
        "FROM surgical_procedures GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    )[0][0]
    tick = datetime(busiest.year, busiest.month, busiest.day, 3, 0, tzinfo=UTC) + timedelta(days=1)
    schedule = defs.resolve_schedule_def("daily_warehouse_schedule")
    [request] = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick)).run_requests
    assert request.partition_key == busiest.isoformat()
    assert schedule.job_name == "full_load_job"
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("full_load_job").execute_in_process(
        instance=instance, partition_key=request.partition_key, tags=request.tags
    )
    assert result.success
    assert unevaluated_checks(defs, instance) == {}  # every check of every asset it materialized
    order = [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()]
    position = {key: i for i, key in enumerate(order)}
    dims = [position[f"warehouse/dim_{d}"] for d in ("facilities", "surgeons", "robots", "date", "time")]
    facts = [position["warehouse/fact_procedures"], position["warehouse/fact_procedure_telemetry"]]
    views = [i for key, i in position.items() if "/vw_" in key]
    assert len(views) >= 11
    assert max(dims) < min(facts) and max(facts) < min(views), order
    assert result.dagster_run.tags["dagster/max_runtime"] == "1800"

    day, next_day = busiest, busiest + timedelta(days=1)
    source_count = query(
        source_url,
        "SELECT count(*) FROM surgical_procedures WHERE start_time >= %s AND start_time < %s",
        (day, next_day),
    )
    assert source_count[0][0] > 0
    assert query(warehouse_url, "SELECT count(*) FROM analytics.fact_procedures") == source_count  # only yesterday
    assert query(warehouse_url, "SELECT count(*) FROM analytics.fact_procedure_telemetry")[0][0] > 0
    completed = query(warehouse_url, "SELECT count(*) FROM analytics.fact_procedures WHERE status = 'completed'")[0][0]
    assert (
        query(warehouse_url, "SELECT sum(procedure_count) FROM analytics.vw_daily_procedure_volume")[0][0] == completed
    )
