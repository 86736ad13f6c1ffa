"""`simulate_day`: move the world forward one day, with new procedures and dimension changes SCD2 must record.

The day defaults to the day after the latest procedure start (UTC). Days on or before that are refused
(DayAlreadySimulated): the world only moves forward, so updated_at only grows and a day cannot be added twice.
The day's procedures are those starting on that UTC day (the partition they load into), booked by the rules of
the generated history: local business hours with daylight saving, as many cases as the local calendar's day
weight asks for, no robot or surgeon in two cases at once, no robot working on its maintenance day.
Robot usage counters (total_procedures_count, total_operating_hours) are left as generated: they are not
dimension changes, and bumping them daily would open a new robot version every day.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from psycopg2 import sql

from medrobotics_dagster import settings
from medrobotics_dagster.resources.databases import SourceDatabase
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.resources.postgres_connection import transaction
from medrobotics_dagster.synthetic import catalog, lake_io, local_calendar, maintenance, procedures, source_schema
from medrobotics_dagster.synthetic.bookings import Bookings
from medrobotics_dagster.synthetic.errors import DayAlreadySimulated, SourceEmpty
from medrobotics_dagster.synthetic.generator import check_seed
from medrobotics_dagster.synthetic.telemetry import TelemetrySpec, telemetry_objects

# Procedures per robot over the generated history (5,000 on 50 robots).
HISTORY_CASES_PER_ROBOT = catalog.BASE_COUNTS["procedures"] / catalog.BASE_COUNTS["robots"]
MIN_BEDS = 20


@dataclass
class SourceState:
    """What the next day is built from: current dimension rows and the last used numbers."""

    facilities: list[dict]
    surgeons: list[dict]
    robots: list[dict]
    latest_day: date
    last_procedure: int
    last_maintenance: int
    busy_until: dict[str, datetime]  # robot or surgeon id -> end of its latest case (UTC)
    maintenance_days: list[tuple[str, date]]  # (robot id, day) of recent maintenance


def simulate_day(
    source_url: str | None = None, lake: Lake | None = None, day: date | str | None = None, seed: int = 42
) -> dict:
    """One more day: its procedures, outcomes and telemetry, and a robot, a surgeon and a facility change."""
    check_seed(seed)
    source_url = source_url or SourceDatabase().resolved_url()
    lake = lake or Lake()
    with lake_io.lake_errors("open the lake"):
        lake_io.open_backend(lake)
    with transaction(source_url, settings.SOURCE_DB_URL) as conn:
        state = load_state(conn)
        day = resolve_day(day, state.latest_day)
        rng = random.Random(f"medrobotics-day:{seed}:{day.isoformat()}")
        log = upgrade_robot(rng, day, state)
        procs, outcomes = new_procedures(rng, day, state, log)
        changes = robot_changes(conn, log, state)
        changes += change_surgeon(conn, rng, day, state.surgeons)
        changes += change_facility(conn, rng, day, state.facilities)
        source_schema.copy_rows(conn, "surgical_procedures", procs)
        source_schema.copy_rows(conn, "procedure_outcomes", outcomes)
        source_schema.copy_rows(conn, "robot_maintenance_logs", [log])
        stats = {"samples": 0}
        models = {r["robot_id"]: r["robot_model"] for r in state.robots}
        specs = [TelemetrySpec.of(p, models[p["robot_id"]]) for p in procs]
        files = lake_io.write_objects(lake, telemetry_objects(specs, seed, stats))
    return {
        "day": day.isoformat(),
        "seed": seed,
        "procedures": [p["procedure_id"] for p in procs],
        "outcomes": len(outcomes),
        "maintenance_logs": [log["maintenance_id"]],
        "telemetry_files": files,
        "telemetry_samples": stats["samples"],
        "changes": changes,
    }


def load_state(conn) -> SourceState:
    """Read the current dimension rows and sequence numbers (locking out a concurrent simulate_day)."""
    if not source_schema.row_counts(conn).get("surgical_procedures"):
        raise SourceEmpty("the source database has no procedures yet; run `medrobotics generate` first")
    with conn.cursor() as cur:
        cur.execute("LOCK TABLE surgical_procedures, robot_maintenance_logs IN SHARE ROW EXCLUSIVE MODE")
        facilities = _dicts(cur, "SELECT facility_id, state, time_zone, bed_count FROM facilities ORDER BY facility_id")
        surgeons = _dicts(
            cur,
            "SELECT surgeon_id, specialization, years_experience, certification_level, facility_id"
            " FROM surgeons ORDER BY surgeon_id",
        )
        robots = _dicts(
            cur,
            "SELECT robot_id, robot_model, software_version, status, facility_id, last_maintenance_date"
            " FROM surgical_robots ORDER BY robot_id",
        )
        cur.execute("SELECT max((start_time AT TIME ZONE 'UTC')::date) FROM surgical_procedures")
        latest_day = cur.fetchone()[0]
        last_procedure = _last_number(cur, "surgical_procedures", "procedure_id")
        last_maintenance = _last_number(cur, "robot_maintenance_logs", "maintenance_id")
        busy_until = {}
        for column in ("robot_id", "surgeon_id"):
            query = sql.SQL("SELECT {0}, max(end_time) FROM surgical_procedures GROUP BY {0}").format(
                sql.Identifier(column)
            )
            cur.execute(query)
            busy_until.update(cur.fetchall())
        cur.execute(
            "SELECT robot_id, maintenance_date FROM robot_maintenance_logs WHERE maintenance_date >= %s",
            (latest_day - timedelta(days=2),),
        )
        maintenance_days = cur.fetchall()
    return SourceState(
        facilities, surgeons, robots, latest_day, last_procedure, last_maintenance, busy_until, maintenance_days
    )


def resolve_day(day: date | str | None, latest_day: date) -> date:
    """The day to simulate: the given one (if after `latest_day`) or the day after it."""
    if day is None:
        return latest_day + timedelta(days=1)
    if isinstance(day, str):
        day = date.fromisoformat(day)
    if day <= latest_day:
        raise DayAlreadySimulated(
            f"{day} is not after the latest day with procedures ({latest_day}): the world only moves forward; "
            "choose a later --date or omit it"
        )
    return day


def new_procedures(rng: random.Random, day: date, state: SourceState, upgrade: dict) -> tuple[list[dict], list[dict]]:
    """The procedures starting on UTC day `day` (about 7 on a weekday at scale 1) with their outcomes, booked
    on active robots after each robot's and surgeon's latest case, none on the upgraded robot's maintenance day."""
    robots = [r for r in state.robots if r["status"] == "active"] or state.robots
    zones = {f["facility_id"]: f["time_zone"] for f in state.facilities}
    bookings = Bookings(robots, state.surgeons, zones)
    turnover = timedelta(minutes=catalog.TURNOVER_MINUTES[0])
    bookings.ready.update({key: end + turnover for key, end in state.busy_until.items() if end is not None})
    for robot_id, maintenance_day in state.maintenance_days + [(upgrade["robot_id"], upgrade["maintenance_date"])]:
        bookings.block_day(robot_id, maintenance_day)
    expected = (
        HISTORY_CASES_PER_ROBOT * len(state.robots) * local_calendar.day_weight(day) / local_calendar.history_weight()
    )
    wishes = []
    for _ in range(max(1, round(rng.gauss(expected, math.sqrt(expected))))):
        robot = rng.choice(robots)
        minutes, emergency = procedures.wished_minutes(rng)
        start = local_calendar.to_utc(day, minutes, zones[robot["facility_id"]])
        if start.date() > day:  # late on the local day before: still within this UTC day
            start = local_calendar.to_utc(day - timedelta(days=1), minutes, zones[robot["facility_id"]])
        if start.date() == day:
            wishes.append((start, robot["robot_id"], robot, emergency))
    wishes.sort(key=lambda w: (w[0], w[1]))
    cases = []
    for wished, _, robot, emergency in wishes:
        slot = bookings.slot(rng, wished, robot, emergency)
        if slot is None or slot[0].date() != day:
            continue
        procedure, outcome = procedures.make_procedure(rng, 0, *slot)
        if bookings.book(rng, procedure, slot[1], slot[2]):
            cases.append((procedure, outcome))
    cases.sort(key=lambda c: (c[0]["start_time"], c[0]["robot_id"]))
    for n, (procedure, outcome) in enumerate(cases, start=state.last_procedure + 1):
        procedures.renumber(procedure, outcome, n)
    return [c[0] for c in cases], [c[1] for c in cases]


def upgrade_robot(rng: random.Random, day: date, state: SourceState) -> dict:
    """A software-upgrade maintenance log for one active robot, done overnight before the day's cases; the robot
    is out of service for its local day, so one still in a case past that local midnight is not chosen."""
    active = [r for r in state.robots if r["status"] == "active"] or state.robots
    zones = {f["facility_id"]: f["time_zone"] for f in state.facilities}
    idle = [r for r in active if _idle_by(r, local_calendar.to_utc(day, 0, zones[r["facility_id"]]), state)]
    robot = rng.choice(idle or active)
    old = robot["software_version"] or "1.0.0"
    new = maintenance.next_version(robot["robot_model"], old)
    at = change_time(rng, day)
    return maintenance.make_log(
        rng, state.last_maintenance + 1, robot["robot_id"], day, "software_upgrade", old, new, at
    )


def robot_changes(conn, log: dict, state: SourceState) -> list[dict]:
    """Record the upgrade on the robot row: software version, last maintenance date, updated_at."""
    robot = next(r for r in state.robots if r["robot_id"] == log["robot_id"])
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE surgical_robots SET software_version = %s, last_maintenance_date = %s, updated_at = %s"
            " WHERE robot_id = %s",
            (log["software_version_after"], log["maintenance_date"], log["updated_at"], robot["robot_id"]),
        )
    old_date = robot["last_maintenance_date"].isoformat() if robot["last_maintenance_date"] else None
    key, at = robot["robot_id"], log["updated_at"]
    return [
        _change(
            "surgical_robots", key, "software_version", robot["software_version"], log["software_version_after"], at
        ),
        _change("surgical_robots", key, "last_maintenance_date", old_date, log["maintenance_date"].isoformat(), at),
    ]


def change_surgeon(conn, rng: random.Random, day: date, surgeons: list[dict]) -> list[dict]:
    """Promote one surgeon a certification level (or, if all are at the top, let one lapse a level)."""
    levels = catalog.CERTIFICATION_LEVELS
    promotable = [s for s in surgeons if s["certification_level"] in levels[:-1]]
    surgeon = rng.choice(promotable or surgeons)
    old = surgeon["certification_level"]
    new = levels[levels.index(old) + 1] if promotable else levels[-2]
    at = change_time(rng, day)
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE surgeons SET certification_level = %s, updated_at = %s WHERE surgeon_id = %s",
            (new, at, surgeon["surgeon_id"]),
        )
    return [_change("surgeons", surgeon["surgeon_id"], "certification_level", old, new, at)]


def change_facility(conn, rng: random.Random, day: date, facilities: list[dict]) -> list[dict]:
    """Open or close a ward: one facility's bed count moves by 10-60 beds."""
    facility = rng.choice(facilities)
    old = facility["bed_count"] or 0
    delta = rng.randint(10, 60) * rng.choice((-1, 1))
    new = old + delta if old + delta >= MIN_BEDS else old + abs(delta)
    at = change_time(rng, day)
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE facilities SET bed_count = %s, updated_at = %s WHERE facility_id = %s",
            (new, at, facility["facility_id"]),
        )
    return [_change("facilities", facility["facility_id"], "bed_count", facility["bed_count"], new, at)]


def change_time(rng: random.Random, day: date) -> datetime:
    """A moment early on `day` (UTC, 01:00-05:59): changes land before the day's business-hour cases."""
    return datetime.combine(day, time(rng.randint(1, 5), rng.randrange(60), rng.randrange(60)), tzinfo=UTC)


def _idle_by(robot: dict, moment: datetime, state: SourceState) -> bool:
    busy_until = state.busy_until.get(robot["robot_id"])
    return busy_until is None or busy_until <= moment


def _change(table: str, key: str, column: str, old, new, at: datetime) -> dict:
    return {"table": table, "id": key, "column": column, "old": old, "new": new, "updated_at": at.isoformat()}


def _dicts(cur, query: str) -> list[dict]:
    cur.execute(query)
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _last_number(cur, table: str, column: str) -> int:
    """The highest numeric suffix among the table's ids (0 if none)."""
    query = sql.SQL("SELECT coalesce(max(substring({} from '([0-9]+)$')::bigint), 0) FROM {}")
    cur.execute(query.format(sql.Identifier(column), sql.Identifier(table)))
    return cur.fetchone()[0]
