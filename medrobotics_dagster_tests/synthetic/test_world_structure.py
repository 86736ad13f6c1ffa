"""The default world (scale 1, seed 42) has structure an analyst can find: models differ, experience pays."""

from __future__ import annotations

import pytest

from medrobotics_dagster.synthetic.world import build_world
from medrobotics_dagster_tests.benchmarks import world_structure


@pytest.fixture(scope="module")
def world():
    return build_world(1.0, 42)


@pytest.fixture(scope="module")
def telemetry(world):
    return world_structure.per_model_telemetry(world, 42, every=5)


def spread(report: dict, field: str) -> float:
    values = [row[field] for row in report.values()]
    return max(values) - min(values)


def test_every_catalog_model_is_in_the_fleet(telemetry):
    assert len(telemetry) == 6


def test_models_differ_in_their_system_readings(telemetry):
    assert spread(telemetry, "avg_temperature") > 2.0  # degrees C between the coolest and the warmest model
    assert spread(telemetry, "avg_motor_current") > 0.5  # amperes
    assert spread(telemetry, "avg_latency_ms") > 8
    assert len({row["min_video_fps"] for row in telemetry.values()}) >= 4
    xi, senhance = telemetry["da Vinci Xi"], telemetry["Senhance"]
    assert xi["degraded_video_pct"] < 2 < 6 < senhance["degraded_video_pct"]
    assert xi["faults_per_robot"] < senhance["faults_per_robot"]


def test_models_differ_in_their_outcomes(world):
    outcomes = world_structure.per_model_outcomes(world)
    xi, senhance = outcomes["da Vinci Xi"], outcomes["Senhance"]
    assert xi["success_pct"] - senhance["success_pct"] > 5
    assert senhance["complication_pct"] - xi["complication_pct"] > 5


def test_experience_is_spread_like_a_workforce(world):
    curve = world_structure.experience_curve(world)
    surgeons = sum(band["surgeons"] for band in curve.values())
    assert curve["10-19 years"]["surgeons"] > surgeons / 2  # mostly mid-career
    assert curve["0-4 years"]["surgeons"] < 0.15 * surgeons
    assert curve["20+ years"]["surgeons"] < 0.25 * surgeons
    assert 10 <= world_structure.experience_spread(world)["median_years"] <= 16


def test_outcomes_improve_with_experience(world):
    bands = list(world_structure.experience_curve(world).values())
    success = [band["success_pct"] for band in bands]
    complications = [band["complication_pct"] for band in bands]
    assert success == sorted(success) and success[-1] - success[0] > 8
    assert complications == sorted(complications, reverse=True) and complications[0] - complications[-1] > 8


def test_the_best_surgeons_are_not_all_perfect(world):
    top = world_structure.top_surgeon_success(world)
    assert len(top) == 10 and top.count(100.0) <= 3 and top[-1] < 99
