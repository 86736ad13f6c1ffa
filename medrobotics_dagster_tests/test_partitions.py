"""Runs over ranges of daily partitions: days grouped into ranges (the sensor's runs, `demo`'s loads) and their tags."""

from datetime import date

from medrobotics_dagster.demo import MAX_RANGES
from medrobotics_dagster.partitions import RANGE_END_TAG, RANGE_START_TAG, day_ranges, range_tags


def test_day_ranges_group_consecutive_days_and_merge_many_ranges():
    assert day_ranges({"2023-01-02", "2023-01-01", "2023-01-05"}) == [
        ("2023-01-01", "2023-01-02"),
        ("2023-01-05", "2023-01-05"),
    ]
    scattered = {f"2023-01-{d:02d}" for d in (1, 3, 5, 7, 9, 11)}
    assert day_ranges(scattered, max_ranges=MAX_RANGES) == [("2023-01-01", "2023-01-11")]
    assert len(day_ranges(scattered)) == 6
    assert day_ranges(set()) == []


def test_day_ranges_split_at_gaps_and_at_the_cap():
    days = [date(2024, 1, d) for d in (1, 2, 3, 5, 6)]
    assert day_ranges(days) == [("2024-01-01", "2024-01-03"), ("2024-01-05", "2024-01-06")]
    assert day_ranges([date(2023, 1, d) for d in range(1, 11)], max_days=4) == [
        ("2023-01-01", "2023-01-04"),
        ("2023-01-05", "2023-01-08"),
        ("2023-01-09", "2023-01-10"),
    ]


def test_a_range_run_is_tagged_with_its_first_and_last_day_and_a_single_day_as_its_partition():
    assert range_tags("2024-01-01", "2024-01-03") == {RANGE_START_TAG: "2024-01-01", RANGE_END_TAG: "2024-01-03"}
    assert range_tags("2024-01-01", "2024-01-01") == {"dagster/partition": "2024-01-01"}
