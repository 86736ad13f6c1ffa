"""A hospital's own calendar: its time zone (with daylight saving), holidays, and how busy a local day is."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from medrobotics_dagster.synthetic import catalog


@cache
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name` (cached: conversions run for every procedure)."""
    return ZoneInfo(name)


def to_utc(day: date, minutes: int, time_zone: str) -> datetime:
    """The UTC instant of local wall time `minutes` after midnight on `day` in `time_zone` (DST-aware)."""
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone(time_zone))
    return local.astimezone(UTC)


def local_day(instant: datetime, time_zone: str) -> date:
    """The local calendar day of a UTC instant."""
    return instant.astimezone(zone(time_zone)).date()


def is_holiday(day: date) -> bool:
    return (day.month, day.day) in catalog.HOLIDAYS


def day_weight(day: date, origin: date = catalog.HISTORY_START) -> float:
    """Relative case volume of a local day: weekday 1, fewer on weekends and holidays, growing year over year
    since `origin` (the first day of the history), a little higher in winter than in summer."""
    base = catalog.HOLIDAY_WEIGHT if is_holiday(day) else catalog.WEEKEND_WEIGHT if day.weekday() >= 5 else 1.0
    years = (day - origin).days / 365.25
    season = 1 + catalog.SEASON_AMPLITUDE * math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365.25)
    return base * (1 + catalog.ANNUAL_GROWTH) ** years * season


def history_days(start: date = catalog.HISTORY_START, end: date = catalog.HISTORY_END) -> list[date]:
    """Every local day of the generated history."""
    return [start + timedelta(d) for d in range((end - start).days + 1)]


@lru_cache(maxsize=8)
def history_weight(start: date = catalog.HISTORY_START, end: date = catalog.HISTORY_END) -> float:
    """Sum of day_weight over the history: expected cases on a day = history cases * day_weight / this."""
    return sum(day_weight(d, start) for d in history_days(start, end))
