"""One surgical procedure and its outcome: start time, duration, patient, complications."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

from medrobotics_dagster.synthetic import catalog, ids, local_calendar, model_profiles, workforce

TYPES_BY_CATEGORY = {
    category: tuple(p for p in catalog.PROCEDURE_TYPES if p.category == category)
    for category in catalog.SPECIALIZATIONS
}
COMPLICATION_EXTRA_DAYS = {"None": 0, "Minor": 1, "Moderate": 3, "Severe": 7}
READMISSION_RISK = {"None": 0.03, "Minor": 0.07, "Moderate": 0.15, "Severe": 0.28}
# (partially successful, unsuccessful) chances by complication level, for a reference surgeon and robot.
NOT_SUCCESSFUL = {"None": (0.08, 0.02), "Minor": (0.12, 0.03), "Moderate": (0.22, 0.06), "Severe": (0.4, 0.3)}


def wished_start(rng: random.Random, day: date, time_zone: str) -> tuple[datetime, bool]:
    """(UTC start, emergency) of a case wished on local day `day` (daylight saving included)."""
    minutes, emergency = wished_minutes(rng)
    return local_calendar.to_utc(day, minutes, time_zone), emergency


def wished_minutes(rng: random.Random) -> tuple[int, bool]:
    """(local minutes after midnight, emergency): electives in the morning or afternoon, an emergency at any hour."""
    if rng.random() < catalog.EMERGENCY_SHARE:
        return rng.randrange(0, 24 * 60), True
    window = catalog.MORNING_STARTS if rng.random() < catalog.MORNING_SHARE else catalog.AFTERNOON_STARTS
    return rng.randrange(*window, 5), False


def make_procedure(rng: random.Random, n: int, start: datetime, robot: dict, surgeon: dict) -> tuple[dict, dict]:
    """The procedure row and its outcome row for procedure number `n`."""
    kind = rng.choice(TYPES_BY_CATEGORY.get(surgeon["specialization"]) or TYPES_BY_CATEGORY["General Surgery"])
    experience = surgeon["years_experience"] or 0
    age = int(min(90, max(18, rng.gauss(58 if kind.category != "Gynecology" else 47, 13))))
    gender = kind.gender or rng.choice(("Male", "Female"))
    complexity = round(min(10.0, max(1.0, rng.gauss(kind.complexity, 1.1))), 1)
    aborted = rng.random() < catalog.ABORTED_SHARE
    duration = _duration_minutes(rng, kind.mean_minutes, complexity, experience, aborted)
    end = start + timedelta(minutes=duration)
    procedure = {
        "procedure_id": ids.procedure_id(n),
        "robot_id": robot["robot_id"],
        "surgeon_id": surgeon["surgeon_id"],
        "facility_id": robot["facility_id"],
        "procedure_type": kind.name,
        "procedure_category": kind.category,
        "patient_id": f"PAT-{rng.randrange(1_000_000, 10_000_000)}",
        "patient_age": age,
        "patient_gender": gender,
        "start_time": start,
        "end_time": end,
        "duration_minutes": duration,
        "complexity_score": complexity,
        "status": "aborted" if aborted else "completed",
        "created_at": start - timedelta(days=rng.randint(3, 45), hours=rng.randint(0, 8)),
        "updated_at": end + timedelta(minutes=rng.randint(5, 45)),
    }
    risk = workforce.learning_factor(experience) * model_profiles.profile(robot.get("robot_model")).outcome_risk
    return procedure, make_outcome(rng, n, procedure, kind, risk)


def renumber(procedure: dict, outcome: dict, n: int) -> None:
    """Give a case drawn before its place in start order was known its procedure and outcome number `n`."""
    procedure["procedure_id"] = outcome["procedure_id"] = ids.procedure_id(n)
    outcome["outcome_id"] = ids.outcome_id(n)


def make_outcome(rng: random.Random, n: int, procedure: dict, kind: catalog.ProcedureType, risk: float) -> dict:
    """Post-operative outcome: riskier with complexity and age, and by `risk` (the surgeon's inexperience times
    the robot model's own risk; 1.0 = reference)."""
    complexity, age = procedure["complexity_score"], procedure["patient_age"]
    complication = _complication_level(rng, complexity, age, risk)
    success = "Unsuccessful" if procedure["status"] == "aborted" else _success_status(rng, complication, risk)
    blood_median = kind.blood_loss_ml * (1 + 0.12 * (complexity - kind.complexity))
    blood_loss = int(rng.lognormvariate(math.log(max(5.0, blood_median)), 0.45))
    if complication in ("Moderate", "Severe"):
        blood_loss += rng.randint(100, 600)
    stay = kind.stay_days + COMPLICATION_EXTRA_DAYS[complication] + rng.choice((0, 0, 0, 1)) + (1 if age >= 75 else 0)
    satisfaction = 9.0 - COMPLICATION_EXTRA_DAYS[complication] * 0.5 + rng.gauss(0, 0.6)
    if success != "Successful":
        satisfaction -= 2.0
    recorded = procedure["end_time"] + timedelta(hours=rng.randint(1, 4), minutes=rng.randint(0, 59))
    return {
        "outcome_id": ids.outcome_id(n),
        "procedure_id": procedure["procedure_id"],
        "success_status": success,
        "blood_loss_ml": blood_loss,
        "complication_level": complication,
        "hospital_stay_days": stay,
        "patient_satisfaction_score": round(min(10.0, max(1.0, satisfaction)), 1),
        "readmission_30day": rng.random() < READMISSION_RISK[complication],
        "created_at": recorded,
        "updated_at": recorded,
    }


def _duration_minutes(rng: random.Random, mean: int, complexity: float, experience: int, aborted: bool) -> int:
    factor = rng.lognormvariate(0, 0.18) * (1 + 0.06 * (complexity - 5)) * (1.12 - min(experience, 30) / 125)
    minutes = max(25, int(round(mean * factor)))
    return max(15, minutes // rng.randint(3, 6)) if aborted else minutes


def _complication_level(rng: random.Random, complexity: float, age: int, risk: float) -> str:
    chance = (0.12 + 0.025 * (complexity - 5) + 0.002 * (age - 55)) * risk
    if rng.random() >= min(0.6, max(0.02, chance)):
        return "None"
    return rng.choices(("Minor", "Moderate", "Severe"), weights=(0.65, 0.27, 0.08))[0]


def _success_status(rng: random.Random, complication: str, risk: float) -> str:
    partial, failed = NOT_SUCCESSFUL[complication]
    partial, failed = min(0.6, partial * risk), min(0.35, failed * risk)
    u = rng.random()
    return "Unsuccessful" if u < failed else "Partially Successful" if u < failed + partial else "Successful"
