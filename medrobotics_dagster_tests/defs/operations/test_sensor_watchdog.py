"""The sensor watchdog's judgement: late, failing or fine."""

from datetime import UTC, datetime, timedelta

from medrobotics_dagster.defs.operations.sensor_watchdog import SensorHealth, problems

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def sensor(name, last_tick_minutes_ago=None, statuses=("SUCCESS",), running=True, interval=30):
    last = NOW - timedelta(minutes=last_tick_minutes_ago) if last_tick_minutes_ago is not None else None
    return SensorHealth(name, interval, running, last, tuple(statuses))


def test_a_running_sensor_that_stopped_ticking_is_reported_and_a_ticking_one_is_not():
    found = problems([sensor("raw_telemetry_sensor", 42), sensor("run_failure_alert_sensor", 1)], NOW)
    assert list(found) == ["raw_telemetry_sensor"]
    assert found["raw_telemetry_sensor"].startswith("stopped ticking: last tick 42 min ago")


def test_three_failed_ticks_in_a_row_are_reported():
    assert "failing" in problems([sensor("s", 1, ("FAILURE", "FAILURE", "FAILURE"))], NOW)["s"]
    assert problems([sensor("s", 1, ("FAILURE", "SUCCESS", "FAILURE"))], NOW) == {}


def test_switched_off_and_never_ticked_sensors_are_not_reported():
    assert problems([sensor("queue_sensor", None, (), running=False), sensor("new_sensor", None, ())], NOW) == {}


def test_a_slow_sensor_gets_five_intervals_before_it_is_late():
    assert problems([sensor("hourly", 250, interval=3600)], NOW) == {}
    assert "stopped ticking" in problems([sensor("hourly", 301, interval=3600)], NOW)["hourly"]
