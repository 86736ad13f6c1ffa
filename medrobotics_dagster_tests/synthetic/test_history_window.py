"""The synthetic world over any window: the fixed default is unchanged, another window is filled from its first
days to its last, and the command's default window ends yesterday."""

from datetime import UTC, date, datetime, timedelta

import pytest

from medrobotics_dagster.synthetic import catalog
from medrobotics_dagster.synthetic.errors import HistoryTooShort
from medrobotics_dagster.synthetic.world import build_world, default_history


def test_default_history_starts_with_the_partitions_and_ends_yesterday(monkeypatch):
    monkeypatch.setenv("MEDROBOTICS_HISTORY_START", "2024-12-01")
    start, end = default_history()
    assert (start, end) == (date(2024, 12, 1), datetime.now(UTC).date() - timedelta(days=1))
    assert default_history(date(2030, 6, 30)) == (date(2024, 12, 1), date(2030, 6, 30))
    assert default_history(date(2024, 6, 30)) == (date(2024, 6, 30), date(2024, 6, 30))  # an end before the start


def test_the_partitions_start_where_the_setting_says(monkeypatch):
    from medrobotics_dagster import settings

    monkeypatch.setenv("MEDROBOTICS_HISTORY_START", "2025-02-30")
    with pytest.raises(settings.ConfigError, match="MEDROBOTICS_HISTORY_START: expected a date"):
        settings.history_start()
    monkeypatch.delenv("MEDROBOTICS_HISTORY_START")
    assert settings.history_start() == date.fromisoformat(settings.DEFAULT_HISTORY_START)


@pytest.mark.parametrize(
    "start, end", [(date(2024, 11, 21), date(2026, 11, 21)), (date(2025, 3, 1), date(2025, 6, 30))]
)
def test_a_moved_window_is_filled_from_its_first_week_to_its_last(start, end):
    world = build_world(0.2, 7, start, end)
    starts = sorted(p["start_time"].date() for p in world.rows["surgical_procedures"])
    assert len(starts) == 1000
    assert start <= starts[0] <= start + timedelta(days=7) and end - timedelta(days=7) <= starts[-1] <= end
    logs = [log["maintenance_date"] for log in world.rows["robot_maintenance_logs"]]
    assert start <= min(logs) and max(logs) <= end
    assert all(r["install_date"] < start for r in world.rows["surgical_robots"])
    assert all(f["created_at"].date() < start for f in world.rows["facilities"])


def test_the_default_window_is_the_fixed_world():
    assert build_world(0.05, 3, catalog.HISTORY_START, catalog.HISTORY_END).rows == build_world(0.05, 3).rows


def test_a_window_too_short_for_the_scale_is_refused_with_advice():
    with pytest.raises(HistoryTooShort, match="--start/--end"):
        build_world(1.0, 42, date(2024, 1, 1), date(2024, 1, 10))
