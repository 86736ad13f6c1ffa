"""How robot models differ: their telemetry (heat, motor load, network, video) and their patients' outcomes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelProfile:
    temperature_c: float  # system temperature at the start of a case (a case warms it by 1.5-3.5 degrees)
    motor_current_scale: float  # motor current relative to the reference arm (about 1.45 A on average)
    latency_ms: tuple[int, int]  # baseline network latency of a case, drawn in [from, to)
    nominal_fps: int  # video frame rate when the stream is healthy
    fps_drop_share: float  # share of samples with a degraded video stream
    dropped_fps: tuple[int, ...]  # frame rates a degraded stream falls to
    outcome_risk: float  # multiplies complication and failure risk (1.0 = reference)
    fault_weight: float  # relative chance that a corrective repair (a fault report) hits a robot of this model


PROFILES = {
    "da Vinci Xi": ModelProfile(36.0, 1.00, (5, 12), 60, 0.01, (50, 55), 0.75, 1.0),
    "da Vinci X": ModelProfile(37.0, 1.08, (6, 14), 60, 0.02, (45, 50), 0.90, 1.3),
    "da Vinci SP": ModelProfile(38.5, 0.85, (6, 14), 60, 0.03, (40, 45), 1.10, 1.6),
    "Hugo RAS": ModelProfile(35.5, 1.25, (8, 18), 50, 0.04, (30, 40), 1.25, 2.0),
    "Versius": ModelProfile(39.0, 0.95, (10, 22), 60, 0.06, (30, 45), 1.45, 2.4),
    "Senhance": ModelProfile(37.8, 1.40, (12, 26), 30, 0.08, (20, 24), 1.70, 3.0),
}
REFERENCE = ModelProfile(37.0, 1.0, (6, 16), 60, 0.03, (30, 45, 50), 1.0, 1.0)  # a model the catalog does not know


def profile(model: str | None) -> ModelProfile:
    """The profile of `model` (the reference profile for an unknown model)."""
    return PROFILES.get(model or "", REFERENCE)
