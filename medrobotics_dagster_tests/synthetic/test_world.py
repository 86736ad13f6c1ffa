"""The synthetic world without a database: counts, plausibility, determinism, telemetry contract."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from medrobotics_dagster.synthetic import catalog
from medrobotics_dagster.synthetic.generator import check_arguments
from medrobotics_dagster.synthetic.maintenance import next_version
from medrobotics_dagster.synthetic.telemetry import TelemetrySpec, telemetry_files
from medrobotics_dagster.synthetic.world import build_world, scaled_counts

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
KEY = re.compile(r"^raw/telemetry/procedure-(PROC-\d{6})/(\d{8})\.json$")


@pytest.fixture(scope="module")
def world():
    return build_world(1.0, 42)


def test_counts_at_scale_one(world):
    counts = {table: len(rows) for table, rows in world.rows.items()}
    assert counts == {
        "facilities": 10,
        "surgeons": 100,
        "surgical_robots": 50,
        "surgical_procedures": 5000,
        "procedure_outcomes": 5000,
        "robot_maintenance_logs": 200,
    }


def test_scaled_counts_round_and_never_drop_to_zero():
    assert scaled_counts(0.1) == {
        "facilities": 1,
        "robots": 5,
        "surgeons": 10,
        "procedures": 500,
        "maintenance_logs": 20,
    }
    assert scaled_counts(0.0001) == {name: 1 for name in catalog.BASE_COUNTS}
    assert scaled_counts(2)["procedures"] == 10000


@pytest.mark.parametrize("scale, seed", [(0, 1), (-1, 1), (float("nan"), 1), (1, -1), (1, 1.5)])
def test_bad_arguments_are_rejected(scale, seed):
    with pytest.raises(ValueError):
        check_arguments(scale, seed)


def test_ids_follow_the_naming_scheme(world):
    assert world.rows["facilities"][0]["facility_id"] == "FAC-001"
    assert world.rows["surgical_robots"][6]["robot_id"] == "ROB-007"
    assert world.rows["surgeons"][0]["surgeon_id"] == "SURG-0001"
    assert [p["procedure_id"] for p in world.rows["surgical_procedures"][:2]] == ["PROC-000001", "PROC-000002"]
    assert world.rows["procedure_outcomes"][122]["outcome_id"] == "OUT-000123"
    assert world.rows["robot_maintenance_logs"][0]["maintenance_id"] == "MNT-00001"


def test_same_seed_same_world_other_seed_other_world(world):
    assert build_world(1.0, 42).rows == world.rows
    assert build_world(1.0, 43).rows["surgical_procedures"] != world.rows["surgical_procedures"]


def test_procedures_are_plausible(world):
    procs = world.rows["surgical_procedures"]
    starts = [p["start_time"] for p in procs]
    assert starts == sorted(starts)
    assert starts[0].date() >= catalog.HISTORY_START and starts[-1].date() <= catalog.HISTORY_END
    assert all(p["start_time"].tzinfo == UTC and p["end_time"] > p["start_time"] for p in procs)
    assert all(p["end_time"] - p["start_time"] == timedelta(minutes=p["duration_minutes"]) for p in procs)
    assert all(1 <= p["complexity_score"] <= 10 and 18 <= p["patient_age"] <= 90 for p in procs)
    assert {p["status"] for p in procs} <= {"completed", "aborted"}
    completed = sum(p["status"] == "completed" for p in procs)
    assert completed > 0.98 * len(procs)
    zones = {f["facility_id"]: ZoneInfo(f["time_zone"]) for f in world.rows["facilities"]}
    weekday = sum(p["start_time"].astimezone(zones[p["facility_id"]]).weekday() < 5 for p in procs)
    assert weekday > 0.85 * len(procs)


def test_procedures_match_their_robot_and_surgeon(world):
    robots = {r["robot_id"]: r for r in world.rows["surgical_robots"]}
    surgeons = {s["surgeon_id"]: s for s in world.rows["surgeons"]}
    for p in world.rows["surgical_procedures"]:
        assert robots[p["robot_id"]]["facility_id"] == p["facility_id"]
        assert surgeons[p["surgeon_id"]]["specialization"] == p["procedure_category"]
        assert robots[p["robot_id"]]["install_date"] < p["start_time"].date()


def test_durations_depend_on_procedure_type(world):
    by_type: dict[str, list[int]] = {}
    for p in world.rows["surgical_procedures"]:
        if p["status"] == "completed":
            by_type.setdefault(p["procedure_type"], []).append(p["duration_minutes"])
    mean = {t: sum(v) / len(v) for t, v in by_type.items()}
    assert mean["Cholecystectomy"] < 120 < mean["Radical Cystectomy"]


def test_outcomes_are_plausible(world):
    outcomes = world.rows["procedure_outcomes"]
    assert [o["procedure_id"] for o in outcomes] == [p["procedure_id"] for p in world.rows["surgical_procedures"]]
    statuses = [o["success_status"] for o in outcomes]
    levels = [o["complication_level"] for o in outcomes]
    assert set(statuses) == set(catalog.OUTCOMES)
    assert set(levels) == set(catalog.COMPLICATION_LEVELS)
    assert 0.85 < statuses.count("Successful") / len(outcomes) < 0.99
    assert 0.7 < levels.count("None") / len(outcomes) < 0.95


def test_robots_reflect_their_maintenance_history(world):
    logs = world.rows["robot_maintenance_logs"]
    assert [log["maintenance_date"] for log in logs] == sorted(log["maintenance_date"] for log in logs)
    for robot in world.rows["surgical_robots"]:
        own = [log for log in logs if log["robot_id"] == robot["robot_id"]]
        upgrades = [log for log in own if log["maintenance_type"] == "software_upgrade"]
        assert robot["last_maintenance_date"] == (own[-1]["maintenance_date"] if own else None)
        if upgrades:
            assert robot["software_version"] == upgrades[-1]["software_version_after"]
        assert robot["updated_at"] >= robot["created_at"]
    assert {r["manufacturer"] for r in world.rows["surgical_robots"]} >= {"Intuitive Surgical"}
    assert sum(r["total_procedures_count"] for r in world.rows["surgical_robots"]) == 5000


def test_next_version_walks_the_catalog_then_bumps_the_patch():
    assert next_version("da Vinci Xi", "9.1.0") == "9.3.1"
    assert next_version("da Vinci Xi", "9.5.0") == "9.5.1"
    assert next_version("Unknown", "2.0.9") == "2.0.10"


def test_telemetry_follows_the_contract():
    start = datetime(2024, 1, 15, 23, 10, tzinfo=UTC)  # crosses UTC midnight
    spec = TelemetrySpec("PROC-000123", "ROB-007", start, 120)
    files = telemetry_files(spec, 42)
    assert [key for key, _, _ in files] == [
        "raw/telemetry/procedure-PROC-000123/20240115.json",
        "raw/telemetry/procedure-PROC-000123/20240116.json",
    ]
    total = 0
    for key, body, count in files:
        lines = body.decode().splitlines()
        assert body.endswith(b"\n") and len(lines) == count
        for line in lines:
            sample = json.loads(line)
            check_sample(sample, line, "PROC-000123", "ROB-007", KEY.match(key).group(2))
            stamp = datetime.fromisoformat(sample["sample_timestamp"].replace("Z", "+00:00"))
            assert start <= stamp < start + timedelta(minutes=120)
        total += count
    assert catalog.SAMPLES_PER_PROCEDURE[0] <= total <= catalog.SAMPLES_PER_PROCEDURE[1]
    assert telemetry_files(spec, 42) == files
    assert telemetry_files(spec, 7) != files


def test_about_92_samples_per_procedure(world):
    specs = world.telemetry[::50]
    samples = sum(count for spec in specs for _, _, count in telemetry_files(spec, 42))
    assert 88 < samples / len(specs) < 96


def check_sample(sample: dict, line: str, procedure_id: str, robot_id: str, day: str) -> None:
    """One telemetry line against docs/telemetry-contract.md (key order, types, rounding, UTC day)."""
    assert list(sample) == [
        "procedure_id",
        "robot_id",
        "sample_timestamp",
        "arm_position",
        "arm_rotation",
        "force_feedback",
        "tool",
        "camera",
        "system",
    ]
    assert sample["procedure_id"] == procedure_id and sample["robot_id"] == robot_id
    assert TIMESTAMP.match(sample["sample_timestamp"])
    assert sample["sample_timestamp"][:10].replace("-", "") == day
    for group in ("arm_position", "arm_rotation"):
        assert list(sample[group]) == ["x", "y", "z"]
        assert all(isinstance(v, float) for v in sample[group].values())
    assert list(sample["tool"]) == ["type", "active"]
    assert sample["tool"]["type"] in catalog.TOOLS and isinstance(sample["tool"]["active"], bool)
    assert list(sample["camera"]) == ["zoom", "lighting_level"]
    assert 1.0 <= sample["camera"]["zoom"] <= 3.0 and isinstance(sample["camera"]["lighting_level"], int)
    assert list(sample["system"]) == ["temperature", "motor_current", "network_latency_ms", "video_fps"]
    assert isinstance(sample["system"]["network_latency_ms"], int) and sample["system"]["video_fps"] in (30, 45, 50, 60)
    assert 0 <= sample["force_feedback"] <= 15
    for decimals, fields in ((4, ("x", "y", "z", "force_feedback", "motor_current")), (2, ("zoom", "temperature"))):
        for field in fields:
            for value in re.findall(rf'"{field}": (-?\d+\.\d+)', line):
                assert len(value.split(".")[1]) == decimals
                assert not (value.startswith("-") and float(value) == 0)
