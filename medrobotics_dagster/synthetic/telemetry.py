"""Raw robot telemetry: newline-delimited JSON samples per procedure, one file per UTC day (telemetry contract)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from medrobotics_dagster.raw_telemetry_paths import raw_telemetry_key
from medrobotics_dagster.synthetic import catalog, model_profiles

TOOL_WEIGHTS = np.array([0.26, 0.18, 0.12, 0.14, 0.12, 0.06, 0.06, 0.06])
# One %-template per line; procedure and robot ids are substituted once per procedure (they hold no '%').
LINE = (
    '{"procedure_id": "%(procedure_id)s", "robot_id": "%(robot_id)s", "sample_timestamp": "%%sZ", '
    '"arm_position": {"x": %%.4f, "y": %%.4f, "z": %%.4f}, "arm_rotation": {"x": %%.4f, "y": %%.4f, "z": %%.4f}, '
    '"force_feedback": %%.4f, "tool": {"type": "%%s", "active": %%s}, '
    '"camera": {"zoom": %%.2f, "lighting_level": %%d}, '
    '"system": {"temperature": %%.2f, "motor_current": %%.4f, "network_latency_ms": %%d, "video_fps": %%d}}'
)


@dataclass(frozen=True)
class TelemetrySpec:
    """What a procedure's telemetry depends on."""

    procedure_id: str
    robot_id: str
    start: datetime  # timezone-aware UTC
    duration_minutes: int
    robot_model: str = ""  # the model's profile shapes the system readings; unknown: the reference profile

    @classmethod
    def of(cls, procedure: dict, robot_model: str = "") -> TelemetrySpec:
        p = procedure
        return cls(p["procedure_id"], p["robot_id"], p["start_time"], p["duration_minutes"], robot_model)


def telemetry_files(spec: TelemetrySpec, seed: int) -> list[tuple[str, bytes, int]]:
    """(key, body, sample count) for each UTC day the procedure's samples fall on."""
    stamps, lines = sample_lines(spec, seed)
    files = []
    begin = 0
    for end in [i for i in range(1, len(stamps)) if stamps[i][:10] != stamps[i - 1][:10]] + [len(stamps)]:
        day = stamps[begin][:10].replace("-", "")
        body = ("\n".join(lines[begin:end]) + "\n").encode()
        files.append((raw_telemetry_key(spec.procedure_id, day), body, end - begin))
        begin = end
    return files


def telemetry_objects(specs: Iterable[TelemetrySpec], seed: int, counter: dict) -> Iterator[tuple[str, bytes]]:
    """(key, body) of every file of these procedures, lazily; adds the samples written to counter["samples"]."""
    for spec in specs:
        for key, body, samples in telemetry_files(spec, seed):
            counter["samples"] = counter.get("samples", 0) + samples
            yield key, body


def sample_lines(spec: TelemetrySpec, seed: int) -> tuple[list[str], list[str]]:
    """The procedure's sample timestamps (ISO, ms, no zone) and JSON lines, in time order."""
    times, values = draw_samples(spec, seed)
    stamps = np.datetime_as_string(times, unit="ms").tolist()
    template = LINE % {"procedure_id": spec.procedure_id, "robot_id": spec.robot_id}
    lines = [template % row for row in zip(stamps, *_columns(values), strict=True)]
    return stamps, lines


def draw_samples(spec: TelemetrySpec, seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The procedure's sample times (datetime64[ms], UTC) and value arrays by name, before formatting."""
    number = int(spec.procedure_id.rsplit("-", 1)[1])
    rng = np.random.default_rng([seed, number, 0x7E1E])  # per procedure: independent of generation order
    n = int(rng.integers(catalog.SAMPLES_PER_PROCEDURE[0], catalog.SAMPLES_PER_PROCEDURE[1] + 1))
    return _times(rng, spec, n), _values(rng, spec, n)


def _times(rng: np.random.Generator, spec: TelemetrySpec, n: int) -> np.ndarray:
    duration_ms = spec.duration_minutes * 60_000
    step = duration_ms / n
    offsets = (np.arange(n) * step + rng.uniform(0, step, n)).astype(np.int64)
    start = np.datetime64(spec.start.replace(tzinfo=None), "ms")
    return start + offsets.astype("timedelta64[ms]")


def _values(rng: np.random.Generator, spec: TelemetrySpec, n: int) -> dict[str, np.ndarray]:
    """Random walks for the arm; for the system, the robot model's profile with noise and drift."""
    model = model_profiles.profile(spec.robot_model)
    position = rng.uniform([-60, -60, 80], [60, 60, 140]) + np.cumsum(rng.normal(0, 2.0, (n, 3)), axis=0)
    rotation = np.clip(rng.uniform(-0.5, 0.5, 3) + np.cumsum(rng.normal(0, 0.05, (n, 3)), axis=0), -np.pi, np.pi)
    active = rng.random(n) < 0.72
    force = np.where(active, rng.gamma(2.2, 1.1, n), rng.gamma(1.2, 0.3, n)).clip(0, 15)
    segments = rng.integers(6, 18, n // 6 + 1)
    tools = np.repeat(rng.choice(len(catalog.TOOLS), segments.size, p=TOOL_WEIGHTS), segments)[:n]
    zoom = np.clip(1.5 + np.cumsum(rng.normal(0, 0.04, n)), 1.0, 3.0)
    lighting = np.clip(rng.integers(70, 91) + rng.integers(-3, 4, n), 40, 100)
    hot = (int(spec.robot_id.rsplit("-", 1)[1]) % 7) * 0.2  # robots of one model differ a little too
    temperature = model.temperature_c + hot + np.linspace(0, rng.uniform(1.5, 3.5), n) + rng.normal(0, 0.15, n)
    load = 0.8 + 0.6 * active + 0.12 * force
    current = np.clip(model.motor_current_scale * load + rng.normal(0, 0.08, n), 0.2, None)
    spikes = (rng.random(n) < 0.01) * rng.uniform(50, 200, n)
    latency = rng.integers(*model.latency_ms) + rng.gamma(2.0, 3.0, n) + spikes
    fps = np.where(rng.random(n) < model.fps_drop_share, rng.choice(model.dropped_fps, n), model.nominal_fps)
    return {
        "position": position,
        "rotation": rotation,
        "force": force,
        "tools": tools,
        "active": active,
        "zoom": zoom,
        "lighting": lighting,
        "temperature": temperature,
        "current": current,
        "latency": latency,
        "fps": fps,
    }


def _columns(values: dict[str, np.ndarray]) -> list[list]:
    """Value columns in line order, rounded as the lines print them."""
    return [
        *_rounded(values["position"], 4).T.tolist(),
        *_rounded(values["rotation"], 4).T.tolist(),
        _rounded(values["force"], 4).tolist(),
        [catalog.TOOLS[i] for i in values["tools"].tolist()],
        ["true" if a else "false" for a in values["active"].tolist()],
        _rounded(values["zoom"], 2).tolist(),
        values["lighting"].tolist(),
        _rounded(values["temperature"], 2).tolist(),
        _rounded(values["current"], 4).tolist(),
        values["latency"].astype(np.int64).tolist(),
        values["fps"].tolist(),
    ]


def _rounded(values: np.ndarray, decimals: int) -> np.ndarray:
    return np.round(values, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0, so no "-0.0000" in the files
