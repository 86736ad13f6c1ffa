"""A sensor that stopped ticking, or keeps failing, is reported like a failed run.

Dagster shows each sensor's tick history on the Automation page, and the UI warns when the daemon itself is
down (then nothing ticks, and the facts' freshness turns red by 05:00). What it does not do is tell anyone
when one running sensor silently stops — an evaluation that hangs past the tick timeout, ticks that are
no longer evaluated, ticks that all fail. Sensors switched off (in the UI or by default) are not reported.
`sensor_watchdog` looks at every other sensor of the code location each few minutes and alerts once per
incident through the same channel as failed runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg

from medrobotics_dagster.defs.operations.alerts import AlertChannel

WATCHDOG_INTERVAL_S = 300
# A sensor is late when its last tick is older than this many of its intervals (and at least the floor).
LATE_AFTER_INTERVALS = 5
LATE_FLOOR = timedelta(minutes=10)
FAILING_AFTER_TICKS = 3


@dataclass(frozen=True)
class SensorHealth:
    name: str
    interval_s: int
    running: bool
    last_tick_at: datetime | None  # UTC
    recent_statuses: tuple[str, ...]  # newest first: "SUCCESS", "SKIPPED", "FAILURE", "STARTED"


def problems(sensors: list[SensorHealth], now: datetime) -> dict[str, str]:
    """{sensor name: what is wrong} for sensors that are stopped, late or failing (pure, no I/O)."""
    found = {}
    for sensor in sensors:
        if not sensor.running:  # switched off on purpose (or off by default): the UI shows it as such
            continue
        late_after = max(LATE_FLOOR, timedelta(seconds=sensor.interval_s * LATE_AFTER_INTERVALS))
        if sensor.last_tick_at is not None and now - sensor.last_tick_at > late_after:
            minutes = int((now - sensor.last_tick_at).total_seconds() // 60)
            found[sensor.name] = f"stopped ticking: last tick {minutes} min ago (expected every {sensor.interval_s} s)"
        elif len(sensor.recent_statuses) >= FAILING_AFTER_TICKS and all(
            s == "FAILURE" for s in sensor.recent_statuses[:FAILING_AFTER_TICKS]
        ):
            found[sensor.name] = f"failing: its last {FAILING_AFTER_TICKS} ticks failed"
    return found


def sensor_health(context: dg.SensorEvaluationContext, watched: list[dg.SensorDefinition]) -> list[SensorHealth]:
    """Each watched sensor's status and recent ticks, read from the instance's schedule storage."""
    from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType

    states = {
        state.instigator_name: state
        for state in context.instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    }
    health = []
    for sensor in watched:
        state = states.get(sensor.name)
        default_running = sensor.default_status == dg.DefaultSensorStatus.RUNNING
        if state is None:  # never toggled and never ticked: its default decides
            health.append(SensorHealth(sensor.name, sensor.minimum_interval_seconds or 30, default_running, None, ()))
            continue
        running = state.status == InstigatorStatus.RUNNING or (
            state.status == InstigatorStatus.DECLARED_IN_CODE and default_running
        )
        ticks = context.instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=FAILING_AFTER_TICKS)
        last = datetime.fromtimestamp(ticks[0].timestamp, tz=UTC) if ticks else None
        health.append(
            SensorHealth(
                sensor.name, sensor.minimum_interval_seconds or 30, running, last, tuple(t.status.value for t in ticks)
            )
        )
    return health


@dg.sensor(
    name="sensor_watchdog",
    minimum_interval_seconds=WATCHDOG_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts once per incident when another running sensor has stopped ticking or keeps failing.",
)
def sensor_watchdog(context: dg.SensorEvaluationContext, alerts: AlertChannel) -> dg.SensorResult:
    watched = [s for s in context.repository_def.sensor_defs if s.name != context.sensor_name]
    found = problems(sensor_health(context, watched), datetime.now(UTC))
    already = set(json.loads(context.cursor)) if context.cursor else set()
    for name in sorted(set(found) - already):
        alerts.publish(
            f"[medrobotics] sensor {name} {found[name].split(':')[0]}",
            f"Sensor {name}: {found[name]}",
            {"sensor": name},
            context.log,
        )
    for name in sorted(already - set(found)):
        context.log.info(f"sensor {name} is healthy again")
    return dg.SensorResult(cursor=json.dumps(sorted(found)), skip_reason=None if found else "every sensor is ticking")
