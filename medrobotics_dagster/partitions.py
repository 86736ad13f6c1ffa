"""The one daily partitions definition every daily asset shares (mixing definitions breaks single-run backfills),
and runs over ranges of its days: how consecutive days group into ranges, and the tags of a range run."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import dagster as dg

from medrobotics_dagster import settings

# Days before the history start cannot hold data: they are not partitions, so no backfill spends time on them.
daily_partitions = dg.DailyPartitionsDefinition(start_date=settings.history_start().isoformat(), timezone="UTC")

# Dagster's tags of a single run over a range of partitions.
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags of a single run over the partitions first .. last (inclusive)."""
    if first == last:
        return {"dagster/partition": first}
    return {RANGE_START_TAG: first, RANGE_END_TAG: last}


def day_ranges(
    days: Iterable[date | str], max_days: int | None = None, max_ranges: int | None = None
) -> list[tuple[str, str]]:
    """Days (dates or partition keys) as sorted runs of consecutive days (partition keys, inclusive), each at most
    `max_days` long; more than `max_ranges` runs become one run over their span (re-materializing a loaded day is
    harmless, a run's start is not free)."""
    ranges: list[list[date]] = []
    for day in sorted({d if isinstance(d, date) else date.fromisoformat(d) for d in days}):
        if (
            ranges
            and day - ranges[-1][1] == timedelta(days=1)
            and (max_days is None or (day - ranges[-1][0]).days < max_days)
        ):
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    if max_ranges is not None and len(ranges) > max_ranges:
        ranges = [[ranges[0][0], ranges[-1][1]]]
    return [(first.isoformat(), last.isoformat()) for first, last in ranges]
