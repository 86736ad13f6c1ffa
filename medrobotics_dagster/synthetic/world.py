"""The initial synthetic world: facilities, surgeons, robots, two years of procedures, outcomes and maintenance."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from medrobotics_dagster.synthetic import catalog, ids, maintenance, procedures
from medrobotics_dagster.synthetic.telemetry import TelemetrySpec


@dataclass
class World:
    rows: dict[str, list[dict]] = field(default_factory=dict)  # table -> rows, in load order
    telemetry: list[TelemetrySpec] = field(default_factory=list)


def scaled_counts(scale: float) -> dict[str, int]:
    """Entity counts at `scale` (half-up rounding, at least one of each)."""
    return {name: max(1, math.floor(base * scale + 0.5)) for name, base in catalog.BASE_COUNTS.items()}


def build_world(scale: float, seed: int) -> World:
    """Every operational row and telemetry spec for (scale, seed); same inputs, same world."""
    rng = random.Random(f"medrobotics-world:{seed}")
    counts = scaled_counts(scale)
    facilities = [make_facility(rng, i) for i in range(1, counts["facilities"] + 1)]
    surgeons = [make_surgeon(rng, i, _assign(rng, i, facilities)) for i in range(1, counts["surgeons"] + 1)]
    robots = [make_robot(rng, i, _assign(rng, i, facilities)) for i in range(1, counts["robots"] + 1)]
    offsets = {f["facility_id"]: catalog.utc_offset(f["state"]) for f in facilities}
    procs, outcomes = make_history(rng, counts["procedures"], robots, surgeons, offsets)
    logs = make_maintenance_history(rng, counts["maintenance_logs"], robots)
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
    world.telemetry = [TelemetrySpec.of(p) for p in procs]
    return world


def make_facility(rng: random.Random, n: int) -> dict:
    """Facility n: the catalog's hospitals, then further campuses of them at larger scales."""
    base = catalog.FACILITIES[(n - 1) % len(catalog.FACILITIES)]
    suffix = catalog.CAMPUS_SUFFIXES[((n - 1) // len(catalog.FACILITIES)) % len(catalog.CAMPUS_SUFFIXES)]
    created = _moment(rng, date(2019, 1, 1), date(2020, 12, 31))
    return {
        "facility_id": ids.facility_id(n),
        "facility_name": base.name + suffix,
        "city": base.city,
        "state": base.state,
        "country": "USA",
        "facility_type": base.facility_type,
        "bed_count": base.bed_count if not suffix else max(60, int(base.bed_count * rng.uniform(0.2, 0.6))),
        "created_at": created,
        "updated_at": created,
    }


def make_surgeon(rng: random.Random, n: int, facility: dict) -> dict:
    """Surgeon n at `facility`; certification follows experience."""
    years = rng.randint(3, 32)
    level = min(len(catalog.CERTIFICATION_LEVELS) - 1, max(0, years // 8 + rng.choice((-1, 0, 0, 1))))
    specializations = list(catalog.SPECIALIZATION_WEIGHTS)
    created = _moment(rng, date(2020, 1, 1), date(2022, 12, 15))
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


def make_robot(rng: random.Random, n: int, facility: dict) -> dict:
    """Robot n as installed; software version, counters and maintenance date are settled by finish_robots."""
    model = rng.choices(catalog.ROBOT_MODELS, weights=[m.weight for m in catalog.ROBOT_MODELS])[0]
    installed = _day(rng, date(2018, 3, 1), date(2022, 10, 31))
    return {
        "robot_id": ids.robot_id(n),
        "robot_serial_number": f"{model.serial_prefix}{installed.year % 100:02d}-{n:04d}-{rng.randrange(16**4):04X}",
        "robot_model": model.model,
        "manufacturer": model.manufacturer,
        "facility_id": facility["facility_id"],
        "install_date": installed,
        "software_version": rng.choice(model.software_versions[:2]),
        "hardware_revision": rng.choice(catalog.HARDWARE_REVISIONS[: 2 + (installed.year >= 2021)]),
        "status": "maintenance" if rng.random() < 0.04 else "active",
        "last_maintenance_date": None,
        "total_procedures_count": 0,
        "total_operating_hours": 0,
        "created_at": datetime.combine(installed, time(16, 0), tzinfo=timezone.utc),
        "updated_at": datetime.combine(installed, time(16, 0), tzinfo=timezone.utc),
    }


def make_history(
    rng: random.Random, count: int, robots: list[dict], surgeons: list[dict], offsets: dict[str, int]
) -> tuple[list, list]:
    """`count` procedures over the history window (weekdays busier), numbered in start-time order."""
    days = [catalog.HISTORY_START + timedelta(d) for d in range((catalog.HISTORY_END - catalog.HISTORY_START).days + 1)]
    weights = [catalog.WEEKEND_WEIGHT if d.weekday() >= 5 else 1.0 for d in days]
    by_facility = _group(surgeons, "facility_id")
    planned = []
    for day in sorted(rng.choices(days, weights=weights, k=count)):
        robot = rng.choice(robots)
        surgeon = rng.choice(by_facility.get(robot["facility_id"]) or surgeons)
        start = procedures.start_time(rng, day, offsets[robot["facility_id"]])
        planned.append((start, robot["robot_id"], robot, surgeon))
    planned.sort(key=lambda p: (p[0], p[1]))
    procs, outcomes = [], []
    for n, (start, _, robot, surgeon) in enumerate(planned, start=1):
        procedure, outcome = procedures.make_procedure(rng, n, start, robot, surgeon)
        procs.append(procedure)
        outcomes.append(outcome)
    return procs, outcomes


def make_maintenance_history(rng: random.Random, count: int, robots: list[dict]) -> list[dict]:
    """`count` maintenance logs over the history window; upgrades walk each robot's version forward."""
    first, last = catalog.HISTORY_START, catalog.HISTORY_END
    planned = sorted(
        (_day(rng, first, last), rng.choice(robots)["robot_id"], maintenance.random_kind(rng)) for _ in range(count)
    )
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


def _group(rows: list[dict], key: str) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    return groups


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _moment(rng: random.Random, first: date, last: date) -> datetime:
    day = _day(rng, first, last)
    return datetime.combine(day, time(rng.randint(13, 21), rng.randrange(60)), tzinfo=timezone.utc)
