"""The default world (scale 1, seed 42) describes a possible hospital network, read in each facility's local time."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from itertools import pairwise
from statistics import mean
from zoneinfo import ZoneInfo

import pytest

from medrobotics_dagster.synthetic import catalog
from medrobotics_dagster.synthetic.world import build_world

HOLIDAYS = {(1, 1), (7, 4), (12, 25)}  # dim_date's is_holiday, written out independently of the generator


@pytest.fixture(scope="module")
def world():
    return build_world(1.0, 42)


def local(world) -> list[tuple[dict, object, object]]:
    """(procedure, local start, local end) in the facility's zone."""
    zones = {f["facility_id"]: ZoneInfo(f["time_zone"]) for f in world.rows["facilities"]}
    return [
        (p, p["start_time"].astimezone(zones[p["facility_id"]]), p["end_time"].astimezone(zones[p["facility_id"]]))
        for p in world.rows["surgical_procedures"]
    ]


def test_every_facility_has_a_dst_aware_us_time_zone(world):
    zones = {f["state"]: f["time_zone"] for f in world.rows["facilities"]}
    assert zones["MA"] == zones["NY"] == "America/New_York" and zones["WA"] == "America/Los_Angeles"
    assert zones["AZ"] == "America/Phoenix"  # no daylight saving there
    assert len(set(zones.values())) >= 4


@pytest.mark.parametrize("member", ["robot_id", "surgeon_id"])
def test_no_robot_or_surgeon_is_in_two_cases_at_once(world, member):
    by_member = defaultdict(list)
    for p in world.rows["surgical_procedures"]:
        by_member[p[member]].append(p)
    too_close = [
        (a["procedure_id"], b["procedure_id"])
        for cases in by_member.values()
        for a, b in pairwise(sorted(cases, key=lambda p: p["start_time"]))
        if b["start_time"] < a["end_time"] + timedelta(minutes=catalog.TURNOVER_MINUTES[0])
    ]
    assert too_close == []


def test_no_procedure_touches_a_day_its_robot_is_in_maintenance(world):
    maintenance_days = {(log["robot_id"], log["maintenance_date"]) for log in world.rows["robot_maintenance_logs"]}
    touching = [
        p["procedure_id"]
        for p, start, end in local(world)
        for d in range((end.date() - start.date()).days + 1)
        if (p["robot_id"], start.date() + timedelta(d)) in maintenance_days
    ]
    assert touching == []


def test_robots_in_maintenance_status_are_out_of_service_since_their_last_log(world):
    last_case = {}
    for p in world.rows["surgical_procedures"]:
        last_case[p["robot_id"]] = max(last_case.get(p["robot_id"], p["end_time"]), p["end_time"])
    down = [r for r in world.rows["surgical_robots"] if r["status"] == "maintenance"]
    assert down
    for robot in down:
        assert robot["last_maintenance_date"] >= catalog.HISTORY_END - timedelta(days=30)
        assert last_case[robot["robot_id"]].date() < robot["last_maintenance_date"]
    active = [r for r in world.rows["surgical_robots"] if r["status"] == "active"]
    assert all(last_case[r["robot_id"]].date() >= catalog.HISTORY_END - timedelta(days=90) for r in active)


def test_starts_follow_the_local_clock_with_daylight_saving(world):
    hours = Counter(start.hour for _, start, _ in local(world))
    n = sum(hours.values())
    assert 0.85 <= sum(hours[h] for h in range(8, 18)) / n <= 0.97  # dim_time business hours
    assert sum(hours[h] for h in (21, 22, 23, 0, 1, 2, 3, 4)) / n < 0.03  # dim_time Night
    # first cases at 07:30; a 17:00 start is a late exception, in summer as in winter
    assert hours[7] > 0.03 * n and hours[17] < 0.01 * n


def test_the_calendar_has_weekends_holidays_and_growth(world):
    per_day = Counter(start.date() for _, start, _ in local(world))
    kinds = defaultdict(list)
    day = catalog.HISTORY_START
    while day <= catalog.HISTORY_END:
        kind = "holiday" if (day.month, day.day) in HOLIDAYS else "weekend" if day.weekday() >= 5 else "weekday"
        kinds[kind].append(per_day[day])
        day += timedelta(days=1)
    weekday, weekend, holiday = (mean(kinds[k]) for k in ("weekday", "weekend", "holiday"))
    assert weekend < 0.4 * weekday and holiday < 0.4 * weekday
    years = Counter(start.year for _, start, _ in local(world))
    assert 0.02 <= years[2024] / years[2023] - 1 <= 0.2
    assert min(per_day) >= date(2023, 1, 1) and max(per_day) <= date(2024, 12, 31)
