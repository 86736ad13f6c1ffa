"""The initial synthetic world: facilities, surgeons, robots, two years of procedures, outcomes and maintenance."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from medrobotics_dagster.synthetic import (
    catalog,
    ids,
    local_calendar,
    maintenance,
    model_profiles,
    procedures,
    workforce,
)
from medrobotics_dagster.synthetic.bookings import Bookings
from medrobotics_dagster.synthetic.errors import HistoryTooShort
from medrobotics_dagster.synthetic.telemetry import TelemetrySpec


@dataclass
class World:
    rows: dict[str, list[dict]] = field(default_factory=dict)  # table -> rows, in load order
    telemetry: list[TelemetrySpec] = field(default_factory=list)


def scaled_counts(scale: float) -> dict[str, int]:
    """Entity counts at `scale` (half-up rounding, at least one of each)."""
    return {name: max(1, math.floor(base * scale + 0.5)) for name, base in catalog.BASE_COUNTS.items()}


def default_history(end: date | None = None) -> tuple[date, date]:
    """(start, end) of the history `medrobotics` generates: from the partitions' first day (the setting
    MEDROBOTICS_HISTORY_START) through `end` (default: yesterday, UTC)."""
    from medrobotics_dagster import settings

    end = end or datetime.now(UTC).date() - timedelta(days=1)
    return min(settings.history_start(), end), end


def build_world(scale: float, seed: int, start: date = catalog.HISTORY_START, end: date = catalog.HISTORY_END) -> World:
    """Every operational row and telemetry spec for (scale, seed, start, end); same inputs, same world. Another
    window of the same length gives the same world moved in time (rounded to whole days; calendar shape aside)."""
    if start > end:
        raise ValueError(f"the history must start on or before its end, got {start} .. {end}")
    rng = random.Random(f"medrobotics-world:{seed}")
    counts = scaled_counts(scale)
    shift = start - catalog.HISTORY_START  # dates before the history (creation, installation) move with it
    facilities = [make_facility(rng, i, shift) for i in range(1, counts["facilities"] + 1)]
    surgeons = [make_surgeon(rng, i, _assign(rng, i, facilities), shift) for i in range(1, counts["surgeons"] + 1)]
    robots = [make_robot(rng, i, _assign(rng, i, facilities), shift) for i in range(1, counts["robots"] + 1)]
    logs = make_maintenance_history(rng, counts["maintenance_logs"], robots, start, end)
    procs, outcomes = make_history(rng, counts["procedures"], robots, surgeons, facilities, logs, start, end)
    finish_robots(robots, procs, logs)
    world = World()
    world.rows = {
        "facilities": facilities,
        "surgeons": surgeons,
        "surgical_robots": robots,
        "surgical_procedures": procs,
        "procedure_outcomes": outcomes,
        "robot_maintenance_logs": logs,
    }
    models = {r["robot_id"]: r["robot_model"] for r in robots}
    world.telemetry = [TelemetrySpec.of(p, models[p["robot_id"]]) for p in procs]
    return world


def make_facility(rng: random.Random, n: int, shift: timedelta = timedelta(0)) -> dict:
    """Facility n: the catalog's hospitals, then further campuses of them at larger scales."""
    base = catalog.FACILITIES[(n - 1) % len(catalog.FACILITIES)]
    suffix = catalog.CAMPUS_SUFFIXES[((n - 1) // len(catalog.FACILITIES)) % len(catalog.CAMPUS_SUFFIXES)]
    created = _moment(rng, date(2019, 1, 1), date(2020, 12, 31)) + shift
    return {
        "facility_id": ids.facility_id(n),
        "facility_name": base.name + suffix,
        "city": base.city,
        "state": base.state,
        "country": "USA",
        "time_zone": catalog.time_zone(base.state),
        "facility_type": base.facility_type,
        "bed_count": base.bed_count if not suffix else max(60, int(base.bed_count * rng.uniform(0.2, 0.6))),
        "created_at": created,
        "updated_at": created,
    }


def make_surgeon(rng: random.Random, n: int, facility: dict, shift: timedelta = timedelta(0)) -> dict:
    """Surgeon n at `facility`; certification follows experience."""
    years = workforce.years_experience(rng)
    level = min(len(catalog.CERTIFICATION_LEVELS) - 1, max(0, years // 8 + rng.choice((-1, 0, 0, 1))))
    specializations = list(catalog.SPECIALIZATION_WEIGHTS)
    created = _moment(rng, date(2020, 1, 1), date(2022, 12, 15)) + shift
    return {
        "surgeon_id": ids.surgeon_id(n),
        "surgeon_name": f"Dr. {rng.choice(catalog.FIRST_NAMES)} {rng.choice(catalog.LAST_NAMES)}",
        "specialization": rng.choices(specializations, weights=list(catalog.SPECIALIZATION_WEIGHTS.values()))[0],
        "years_experience": years,
        "certification_level": catalog.CERTIFICATION_LEVELS[level],
        "facility_id": facility["facility_id"],
        "created_at": created,
        "updated_at": created,
    }


def make_robot(rng: random.Random, n: int, facility: dict, shift: timedelta = timedelta(0)) -> dict:
    """Robot n as installed; software version, counters and maintenance date are settled by finish_robots."""
    model = rng.choices(catalog.ROBOT_MODELS, weights=[m.weight for m in catalog.ROBOT_MODELS])[0]
    unshifted = _day(rng, date(2018, 3, 1), date(2022, 10, 31))
    installed = unshifted + shift
    return {
        "robot_id": ids.robot_id(n),
        "robot_serial_number": f"{model.serial_prefix}{installed.year % 100:02d}-{n:04d}-{rng.randrange(16**4):04X}",
        "robot_model": model.model,
        "manufacturer": model.manufacturer,
        "facility_id": facility["facility_id"],
        "install_date": installed,
        "software_version": rng.choice(model.software_versions[:2]),
        "hardware_revision": rng.choice(catalog.HARDWARE_REVISIONS[: 2 + (unshifted.year >= 2021)]),
        "status": "maintenance" if rng.random() < 0.04 else "active",
        "last_maintenance_date": None,
        "total_procedures_count": 0,
        "total_operating_hours": 0,
        "created_at": datetime.combine(installed, time(16, 0), tzinfo=UTC),
        "updated_at": datetime.combine(installed, time(16, 0), tzinfo=UTC),
    }


def make_history(
    rng: random.Random,
    count: int,
    robots: list[dict],
    surgeons: list[dict],
    facilities: list[dict],
    logs: list[dict],
    start: date = catalog.HISTORY_START,
    end: date = catalog.HISTORY_END,
) -> tuple[list, list]:
    """`count` procedures over the history window, shaped by the local calendar and booked without double
    booking or maintenance-day cases; numbered in start-time order."""
    bookings = Bookings(robots, surgeons, {f["facility_id"]: f["time_zone"] for f in facilities})
    take_out_of_service(bookings, robots, logs)
    cases = []
    for oversample in (1.1, 1.3, 1.7, 2.5, 4.0):
        cases = book_cases(rng, math.ceil(count * oversample) + 3, bookings, start, end)
        if len(cases) >= count:
            break
        bookings.ready.clear()
    else:
        raise HistoryTooShort(
            f"could only book {len(cases)} of {count} procedures into {start} .. {end}; "
            "give the history more days (--start/--end) or use a smaller --scale"
        )
    # Dropping booked cases never creates a conflict; a random subset keeps the calendar's shape.
    kept = [cases[i] for i in rng.sample(range(len(cases)), count)]
    kept.sort(key=lambda c: (c[0]["start_time"], c[0]["robot_id"]))
    for n, (procedure, outcome) in enumerate(kept, start=1):
        procedures.renumber(procedure, outcome, n)
    return [c[0] for c in kept], [c[1] for c in kept]


def book_cases(
    rng: random.Random,
    wished_count: int,
    bookings: Bookings,
    start: date = catalog.HISTORY_START,
    end: date = catalog.HISTORY_END,
) -> list[tuple[dict, dict]]:
    """Wish `wished_count` cases on local days weighted by the calendar, and book those that fit, in time order."""
    days = local_calendar.history_days(start, end)
    wishes = []
    for day in rng.choices(days, weights=[local_calendar.day_weight(d, start) for d in days], k=wished_count):
        robot = rng.choice(bookings.robots)
        wished, emergency = procedures.wished_start(rng, day, bookings.time_zones[robot["facility_id"]])
        wishes.append((wished, robot["robot_id"], robot, emergency))
    wishes.sort(key=lambda w: (w[0], w[1]))
    window = (
        datetime.combine(start, time(0), UTC),
        datetime.combine(end + timedelta(1), time(0), UTC),
    )
    cases = []
    for wished, _, robot, emergency in wishes:
        slot = bookings.slot(rng, wished, robot, emergency)
        if slot is None or not window[0] <= slot[0] < window[1]:
            continue
        booked_start, robot, surgeon = slot
        procedure, outcome = procedures.make_procedure(rng, 0, booked_start, robot, surgeon)
        if bookings.book(rng, procedure, robot, surgeon):
            cases.append((procedure, outcome))
    return cases


def take_out_of_service(bookings: Bookings, robots: list[dict], logs: list[dict]) -> None:
    """Maintenance days block their robot; a robot in status `maintenance` is out from its last log on."""
    for log in logs:
        bookings.block_day(log["robot_id"], log["maintenance_date"])
    last = {log["robot_id"]: log["maintenance_date"] for log in logs}  # logs are in date order
    for robot in robots:
        if robot["status"] == "maintenance":
            bookings.out_from[robot["robot_id"]] = last[robot["robot_id"]]


def make_maintenance_history(
    rng: random.Random,
    count: int,
    robots: list[dict],
    first: date = catalog.HISTORY_START,
    last: date = catalog.HISTORY_END,
) -> list[dict]:
    """`count` maintenance logs over the history window; upgrades walk each robot's version forward. A robot in
    status `maintenance` went down with a fault in the last two weeks and has no later log."""
    down = [r for r in robots if r["status"] == "maintenance"]
    for robot in down[count:]:  # fewer logs than robots down (tiny scales): those robots stay active
        robot["status"] = "active"
    down_since = {r["robot_id"]: last - timedelta(rng.randint(0, 13)) for r in down[:count]}
    planned = [(day, robot_id, "corrective") for robot_id, day in down_since.items()][:count]
    fault_weights = [model_profiles.profile(r["robot_model"]).fault_weight for r in robots]
    while len(planned) < count:
        day, kind = _day(rng, first, last), maintenance.random_kind(rng)
        # faults strike some models more often; planned work is spread evenly
        robot_id = (rng.choices(robots, fault_weights)[0] if kind == "corrective" else rng.choice(robots))["robot_id"]
        if day < down_since.get(robot_id, last + timedelta(1)):
            planned.append((day, robot_id, kind))
    planned.sort()
    robots_by_id = {r["robot_id"]: r for r in robots}
    logs = []
    for n, (day, robot_id, kind) in enumerate(planned, start=1):
        robot = robots_by_id[robot_id]
        before = robot["software_version"]
        after = maintenance.next_version(robot["robot_model"], before) if kind == "software_upgrade" else None
        logs.append(maintenance.make_log(rng, n, robot_id, day, kind, before, after))
        if after:
            robot["software_version"] = after
    return logs


def finish_robots(robots: list[dict], procs: list[dict], logs: list[dict]) -> None:
    """Counters, last maintenance date and updated_at as of the end of the history."""
    by_id = {r["robot_id"]: r for r in robots}
    minutes: dict[str, int] = {}
    for p in procs:
        by_id[p["robot_id"]]["total_procedures_count"] += 1
        minutes[p["robot_id"]] = minutes.get(p["robot_id"], 0) + p["duration_minutes"]
    for robot_id, total in minutes.items():
        by_id[robot_id]["total_operating_hours"] = round(total / 60, 2)
    for log in logs:  # logs are in date order
        robot = by_id[log["robot_id"]]
        robot["last_maintenance_date"] = log["maintenance_date"]
        robot["updated_at"] = max(robot["updated_at"], log["updated_at"])


def _assign(rng: random.Random, n: int, facilities: list[dict]) -> dict:
    """Round-robin until every facility has one, then weighted by bed count."""
    if n <= len(facilities):
        return facilities[n - 1]
    return rng.choices(facilities, weights=[f["bed_count"] for f in facilities])[0]


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _moment(rng: random.Random, first: date, last: date) -> datetime:
    day = _day(rng, first, last)
    return datetime.combine(day, time(rng.randint(13, 21), rng.randrange(60)), tzinfo=UTC)
