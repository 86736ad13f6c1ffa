"""What an analyst should find in the generated world: robot models that differ, and an experience curve.

Computed from the generator's own rows and sample arrays (no warehouse), by rules written out here rather than
taken from the generator, so a test can hold the generator to them.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict

import numpy as np

from medrobotics_dagster.synthetic.telemetry import draw_samples
from medrobotics_dagster.synthetic.world import World

EXPERIENCE_BANDS = ((0, 4, "0-4 years"), (5, 9, "5-9 years"), (10, 19, "10-19 years"), (20, 99, "20+ years"))
MIN_SURGEON_PROCEDURES = 20  # as the top_surgeons sample query


def band(years: int) -> str:
    return next(label for low, high, label in EXPERIENCE_BANDS if low <= years <= high)


def outcome_rates(pairs: list[tuple[dict, dict]]) -> dict:
    """Count, success % and complication % (any level) of completed (procedure, outcome) pairs."""
    n = len(pairs)
    success = sum(o["success_status"] == "Successful" for _, o in pairs)
    complications = sum(o["complication_level"] != "None" for _, o in pairs)
    return {
        "procedures": n,
        "success_pct": round(100 * success / n, 1) if n else None,
        "complication_pct": round(100 * complications / n, 1) if n else None,
    }


def completed_pairs(world: World) -> list[tuple[dict, dict]]:
    procs, outcomes = world.rows["surgical_procedures"], world.rows["procedure_outcomes"]
    return [(p, o) for p, o in zip(procs, outcomes, strict=True) if p["status"] == "completed"]


def per_model_outcomes(world: World) -> dict[str, dict]:
    """Outcome rates of completed procedures by the model of their robot."""
    models = {r["robot_id"]: r["robot_model"] for r in world.rows["surgical_robots"]}
    groups = defaultdict(list)
    for p, o in completed_pairs(world):
        groups[models[p["robot_id"]]].append((p, o))
    return {model: outcome_rates(pairs) for model, pairs in sorted(groups.items())}


def per_model_telemetry(world: World, seed: int, every: int = 1) -> dict[str, dict]:
    """Mean temperature and motor current, mean latency, minimum fps and degraded-video share by robot model,
    over every `every`-th procedure's samples; with corrective repairs (fault reports) per robot."""
    arrays = defaultdict(lambda: defaultdict(list))
    for spec in world.telemetry[::every]:
        _, values = draw_samples(spec, seed)
        for name in ("temperature", "current", "latency", "fps"):
            arrays[spec.robot_model][name].append(values[name])
    robots = Counter(r["robot_model"] for r in world.rows["surgical_robots"])
    models = {r["robot_id"]: r["robot_model"] for r in world.rows["surgical_robots"]}
    faults = Counter(
        models[log["robot_id"]]
        for log in world.rows["robot_maintenance_logs"]
        if log["maintenance_type"] == "corrective"
    )
    report = {}
    for model, columns in sorted(arrays.items()):
        joined = {name: np.concatenate(parts) for name, parts in columns.items()}
        fps = joined["fps"]
        report[model] = {
            "robots": robots[model],
            "avg_temperature": round(float(joined["temperature"].mean()), 2),
            "avg_motor_current": round(float(joined["current"].mean()), 3),
            "avg_latency_ms": round(float(joined["latency"].mean()), 1),
            "min_video_fps": int(fps.min()),
            "degraded_video_pct": round(100 * float((fps < fps.max()).mean()), 2),
            "faults_per_robot": round(faults[model] / robots[model], 2) if robots[model] else None,
        }
    return report


def experience_curve(world: World) -> dict[str, dict]:
    """Surgeons and outcome rates of their completed procedures by experience band."""
    years = {s["surgeon_id"]: s["years_experience"] for s in world.rows["surgeons"]}
    surgeons = Counter(band(y) for y in years.values())
    groups = defaultdict(list)
    for p, o in completed_pairs(world):
        groups[band(years[p["surgeon_id"]])].append((p, o))
    return {label: {"surgeons": surgeons[label], **outcome_rates(groups[label])} for _, _, label in EXPERIENCE_BANDS}


def top_surgeon_success(world: World, top: int = 10) -> list[float]:
    """Success % of the `top` best surgeons with at least MIN_SURGEON_PROCEDURES completed procedures."""
    groups = defaultdict(list)
    for p, o in completed_pairs(world):
        groups[p["surgeon_id"]].append((p, o))
    rates = [outcome_rates(pairs)["success_pct"] for pairs in groups.values() if len(pairs) >= MIN_SURGEON_PROCEDURES]
    return sorted(rates, reverse=True)[:top]


def experience_spread(world: World) -> dict:
    """Median years of experience and the quartiles of the workforce."""
    years = sorted(s["years_experience"] for s in world.rows["surgeons"])
    q1, median, q3 = statistics.quantiles(years, n=4)
    return {"median_years": median, "quartiles": (q1, q3), "range": (years[0], years[-1])}
