"""Days that heal without a file change: a load that failed on a fault (a missing source table, a lost fact
table, a warehouse down longer than the step's retries) is tried again by the file sensor on a later tick,
two ticks after the failure, then four, eight, … at most every RECOVERY_MAX_DELAY, until it succeeds. An operator
who fixes the cause sees the day load by itself; a fault left in place costs one short failed run (and alert)
per delay. A day over the error budget is not tried again: its data is wrong, and only a changed or deleted
file (a new data version) loads it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import dagster as dg

from medrobotics_dagster.defs.telemetry.assets import BUDGET_CHECK, FACT_KEY, QUARANTINE_KEY, SAMPLES_KEY
from medrobotics_dagster.partitions import daily_partitions

RECOVERY_MAX_DELAY = timedelta(hours=4)
RETRIED_DAYS_TAG = "medrobotics/retried_days"  # on a run that tries days again: those days, comma-separated
TELEMETRY_KEYS = (SAMPLES_KEY, QUARANTINE_KEY, FACT_KEY)  # what a telemetry run of a day materializes

Retries = dict[str, list]  # day -> [retries so far, ISO time of the next one]


def recovery_delay(retries: int, interval_s: float) -> timedelta:
    """How long a day waits before its next retry: 2, 4, 8, … sensor ticks, at most RECOVERY_MAX_DELAY."""
    return min(RECOVERY_MAX_DELAY, timedelta(seconds=interval_s * 2 ** (retries + 1)))


def over_budget(instance: dg.DagsterInstance, day: str) -> bool:
    """The day's latest telemetry run failed its error-budget check for this day (the data, not a fault)."""
    planned = instance.get_latest_planned_materialization_info(FACT_KEY, day)
    if planned is None:
        return False
    for entry in instance.all_logs(planned.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        if evaluation.check_name == BUDGET_CHECK and not evaluation.passed:
            days = evaluation.metadata.get("days_over_budget")
            return days is not None and day in (days.value or {})
    return False


def failed_days(instance: dg.DagsterInstance, days: Iterable[str]) -> tuple[set[str], set[str]]:
    """(days whose telemetry Dagster shows failed and no run is loading, days a run is loading now), among
    `days`; days over the error budget are left out of the first."""
    keys = sorted(days)
    if not keys:
        return set(), set()
    failed: set[str] = set()
    busy: set[str] = set()
    for asset_key in TELEMETRY_KEYS:
        statuses = instance.get_status_by_partition(asset_key, keys, daily_partitions) or {}
        failed |= {day for day, status in statuses.items() if status == dg.AssetPartitionStatus.FAILED}
        busy |= {day for day, status in statuses.items() if status == dg.AssetPartitionStatus.IN_PROGRESS}
    return {day for day in failed - busy if not over_budget(instance, day)}, busy


def due_retries(
    failed: set[str], busy: set[str], retries: Mapping[str, list], now: datetime, interval_s: float
) -> tuple[dict[str, int], Retries]:
    """({day: its retry number} to request now, the next retry state). A day seen failed for the first time is
    scheduled, not run; a day being loaded keeps its state; a day neither failed nor loading is dropped (healed)."""
    due: dict[str, int] = {}
    following: Retries = {day: list(retries[day]) for day in busy if day in retries}
    for day in sorted(failed):
        count, next_at = retries.get(day, (0, None))
        if next_at is None:
            following[day] = [count, (now + recovery_delay(count, interval_s)).isoformat()]
        elif now >= datetime.fromisoformat(next_at):
            due[day] = count + 1
            following[day] = [count + 1, (now + recovery_delay(count + 1, interval_s)).isoformat()]
        else:
            following[day] = [count, next_at]
    return due, following
