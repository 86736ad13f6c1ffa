"""A day heals itself: a load that failed on a fault runs again on a later tick of the file sensor once the
operator fixes the cause, with no file changed; a day over the error budget waits for its files to change.

The faults are real (a source table renamed away, the fact table renamed away) on real PostgreSQL and moto S3,
through the sensor's own evaluation and its runs on one Dagster instance."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from medrobotics_dagster.defs.telemetry import sensor
from medrobotics_dagster.defs.telemetry.assets import FACT_KEY
from medrobotics_dagster.defs.telemetry.recovery import (
    RECOVERY_MAX_DELAY,
    RETRIED_DAYS_TAG,
    due_retries,
    recovery_delay,
)
from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster_tests.database import execute, query
from medrobotics_dagster_tests.defs.telemetry.telemetry_world import World, extract_procedures, seed_source
from medrobotics_dagster_tests.ops.test_operator_soak import D15, D16, D17, Lake, Operator, fact

INTERVAL_S = 1  # the sensor's tick for these tests: a failed day is retried 2 s after its failure was seen
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def test_a_failed_day_is_retried_after_two_ticks_then_four_eight_and_at_most_every_four_hours():
    due, state = due_retries({"2024-01-16"}, set(), {}, NOW, 30)
    assert due == {} and state == {"2024-01-16": [0, (NOW + timedelta(seconds=60)).isoformat()]}
    later = NOW + timedelta(seconds=60)
    due, state = due_retries({"2024-01-16"}, set(), state, later, 30)
    assert due == {"2024-01-16": 1} and state["2024-01-16"] == [1, (later + timedelta(seconds=120)).isoformat()]
    assert recovery_delay(2, 30) == timedelta(minutes=4) and recovery_delay(20, 30) == RECOVERY_MAX_DELAY
    # a retry in progress keeps its count; a day neither failed nor loading has healed and is forgotten
    assert due_retries(set(), {"2024-01-16"}, state, later, 30) == ({}, state)
    assert due_retries(set(), set(), state, later, 30) == ({}, {})


@pytest.fixture
def operator(source_url, warehouse_url, s3_bucket, monkeypatch):
    monkeypatch.setattr(sensor, "SENSOR_INTERVAL_S", INTERVAL_S)
    seed_source(source_url)
    world = World(source_url, warehouse_url, f"s3://{s3_bucket}/lake")
    extract_procedures(world)
    raw, operator = Lake(world), Operator(world)
    raw.put("PROC-A", D15, range(20))
    assert operator.settle() == [("2024-01-15", True)]
    return world, raw, operator


def wait_for_retry() -> None:
    time.sleep(2 * INTERVAL_S + 0.5)


def latest_run_tags(operator: Operator) -> dict[str, str]:
    return operator.instance.get_runs(limit=1)[0].tags


def status(operator: Operator, day: str):
    return operator.instance.get_status_by_partition(FACT_KEY, [day], daily_partitions)[day]


def test_a_day_blocked_by_a_missing_source_table_loads_by_itself_once_the_table_is_back(operator):
    world, raw, operator = operator
    execute(world.source_url, "ALTER TABLE surgical_procedures RENAME TO surgical_procedures_moved")
    raw.put("PROC-C", D16, range(7))
    assert operator.settle() == [("2024-01-16", False)]  # permanent: fails at once, then waits for a retry
    assert RETRIED_DAYS_TAG not in latest_run_tags(operator)
    wait_for_retry()
    assert operator.settle() == [("2024-01-16", False)]  # not fixed yet: tried again, fails again
    assert latest_run_tags(operator)[RETRIED_DAYS_TAG] == "2024-01-16"  # a recovery run says so in the UI
    execute(world.source_url, "ALTER TABLE surgical_procedures_moved RENAME TO surgical_procedures")
    time.sleep(4 * INTERVAL_S + 0.5)  # the second retry waits twice as long
    assert operator.settle() == [("2024-01-16", True)]  # no file changed
    assert fact(world) == raw.expected()
    assert status(operator, "2024-01-16") == dg.AssetPartitionStatus.MATERIALIZED
    wait_for_retry()
    assert operator.settle() == []  # healed: nothing more to retry


def test_a_day_that_failed_on_a_lost_fact_table_loads_once_the_table_is_renamed_back(operator):
    world, raw, operator = operator
    execute(world.warehouse_url, "ALTER TABLE analytics.fact_procedure_telemetry RENAME TO fact_moved")
    raw.put("PROC-C", D16, range(7))
    assert operator.settle() == [("2024-01-16", False)]  # LostTable: never re-created empty
    execute(world.warehouse_url, "ALTER TABLE analytics.fact_moved RENAME TO fact_procedure_telemetry")
    wait_for_retry()
    assert operator.settle() == [("2024-01-16", True)]
    assert fact(world) == raw.expected()


def test_a_day_over_the_error_budget_is_not_retried_and_loads_once_its_bad_file_is_deleted(operator):
    world, raw, operator = operator
    raw.put("PROC-D", D17, range(3))
    assert operator.settle() == [("2024-01-17", True)]
    bad = raw.put("PROC-C", D17, range(2), bad=3)  # 3 of 8 lines that day rejected: over the 5 % budget
    assert operator.settle() == [("2024-01-17", False)]
    assert status(operator, "2024-01-17") == dg.AssetPartitionStatus.FAILED
    wait_for_retry()
    assert operator.settle() == []  # the data is wrong: a retry would fail the same way
    assert query(world.warehouse_url, "SELECT count(*) FROM analytics.telemetry_quarantine") == [(3,)]
    raw.delete(bad)
    assert operator.settle() == [("2024-01-17", True)]
    assert fact(world) == raw.expected()
    assert status(operator, "2024-01-17") == dg.AssetPartitionStatus.MATERIALIZED
    assert query(world.warehouse_url, "SELECT count(*) FROM analytics.telemetry_quarantine") == [(0,)]
