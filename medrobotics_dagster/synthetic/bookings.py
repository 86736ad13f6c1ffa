"""Operating-room bookings: no robot or surgeon in two cases at once, turnover between cases, robots out of
service on their maintenance days. Cases are booked in order of their wished start time, so each robot's and
surgeon's next free moment only moves forward."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from medrobotics_dagster.synthetic import catalog, local_calendar


@dataclass
class Bookings:
    robots: list[dict]
    surgeons: list[dict]
    time_zones: dict[str, str]  # facility_id -> IANA zone
    ready: dict[str, datetime] = field(default_factory=dict)  # robot or surgeon id -> earliest next start (UTC)
    maintenance_days: dict[str, set[date]] = field(default_factory=dict)  # robot id -> local days out of service
    out_from: dict[str, date] = field(default_factory=dict)  # robot id -> local day it left service for good

    def __post_init__(self) -> None:
        self.robots_at = _group(self.robots)
        self.surgeons_at = _group(self.surgeons)

    def block_day(self, robot_id: str, day: date) -> None:
        self.maintenance_days.setdefault(robot_id, set()).add(day)

    def in_service(self, robot: dict, start: datetime, end: datetime) -> bool:
        """True if no local day the case touches is a maintenance day of the robot or after it left service."""
        zone = self.time_zones[robot["facility_id"]]
        first, last = local_calendar.local_day(start, zone), local_calendar.local_day(end, zone)
        if robot["robot_id"] in self.out_from and last >= self.out_from[robot["robot_id"]]:
            return False
        blocked = self.maintenance_days.get(robot["robot_id"], ())
        return not any(first + timedelta(d) in blocked for d in range((last - first).days + 1))

    def slot(self, rng: random.Random, wished: datetime, robot: dict, emergency: bool) -> tuple | None:
        """(start, robot, surgeon) for a case wished at `wished` on `robot` (another robot of the same facility
        if that one is busy or in maintenance), or None if the facility cannot take it that day."""
        facility = robot["facility_id"]
        robots = [r for r in self.robots_at[facility] if self.in_service(r, wished, wished)]
        if not robots:
            return None
        if robot not in robots or self._ready(robot, wished) > wished:
            robot = self._pick(rng, robots, wished)
        surgeon = self._pick(rng, self.surgeons_at.get(facility) or self.surgeons, wished)
        start = max(wished, self._ready(robot, wished), self._ready(surgeon, wished))
        if not emergency:
            local = start.astimezone(local_calendar.zone(self.time_zones[facility]))
            wished_day = local_calendar.local_day(wished, self.time_zones[facility])
            if local.date() != wished_day or local.hour * 60 + local.minute > catalog.LATEST_ELECTIVE_START:
                return None
        return start, robot, surgeon

    def book(self, rng: random.Random, procedure: dict, robot: dict, surgeon: dict) -> bool:
        """Record the case if its robot stays in service until it ends; False (nothing recorded) otherwise."""
        if not self.in_service(robot, procedure["start_time"], procedure["end_time"]):
            return False
        turnover = timedelta(minutes=rng.randint(*catalog.TURNOVER_MINUTES))
        self.ready[robot["robot_id"]] = procedure["end_time"] + turnover
        self.ready[surgeon["surgeon_id"]] = procedure["end_time"] + turnover
        return True

    def _ready(self, member: dict, default: datetime) -> datetime:
        return self.ready.get(member.get("robot_id") or member["surgeon_id"], default)

    def _pick(self, rng: random.Random, members: list[dict], wished: datetime) -> dict:
        """A random member free at `wished`, else the one free soonest."""
        free = [m for m in members if self._ready(m, wished) <= wished]
        if free:
            return rng.choice(free)
        return min(members, key=lambda m: self._ready(m, wished))


def _group(rows: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["facility_id"], []).append(row)
    return groups
