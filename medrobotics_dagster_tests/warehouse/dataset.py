"""A small, realistic operational data set (UTC, as staged) for the warehouse tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from medrobotics_dagster.synthetic.catalog import time_zone

LOADED = datetime(2024, 1, 1, 8, 0, 0)

PROCEDURE_TYPES = [
    ("Prostatectomy", "Urology"),
    ("Hysterectomy", "Gynecology"),
    ("Cholecystectomy", "General Surgery"),
    ("Mitral Valve Repair", "Cardiothoracic"),
]


def facility(facility_id: str, **overrides) -> dict:
    n = int(facility_id.split("-")[1])
    row = {
        "facility_id": facility_id,
        "facility_name": f"Facility {n} Medical Center",
        "city": ["Boston", "New York", "Houston", "Seattle"][n % 4],
        "state": ["MA", "NY", "TX", "WA"][n % 4],
        "country": "USA",
        "time_zone": time_zone(["MA", "NY", "TX", "WA"][n % 4]),
        "facility_type": "Teaching Hospital",
        "bed_count": 400 + 50 * n,
        "created_at": LOADED,
        "updated_at": LOADED,
    }
    row.update(overrides)
    return row


def surgeon(surgeon_id: str, **overrides) -> dict:
    n = int(surgeon_id.split("-")[1])
    row = {
        "surgeon_id": surgeon_id,
        "surgeon_name": f"Dr. Surgeon {n}",
        "specialization": PROCEDURE_TYPES[n % 4][1],
        "years_experience": 5 + n,
        "certification_level": "Advanced",
        "facility_id": f"FAC-{(n % 3) + 1:03d}",
        "created_at": LOADED,
        "updated_at": LOADED,
    }
    row.update(overrides)
    return row


def robot(robot_id: str, **overrides) -> dict:
    n = int(robot_id.split("-")[1])
    row = {
        "robot_id": robot_id,
        "robot_serial_number": f"SN-{n:05d}",
        "robot_model": "da Vinci Xi" if n % 2 else "da Vinci SP",
        "manufacturer": "Intuitive Surgical",
        "facility_id": f"FAC-{(n % 3) + 1:03d}",
        "install_date": date(2021, 1, 1 + n % 28),
        "software_version": "4.2.0",
        "hardware_revision": "B",
        "status": "active",
        "last_maintenance_date": date(2024, 1, 2),
        "total_procedures_count": 100 * n,
        "total_operating_hours": Decimal("250.50") * n,
        "created_at": LOADED,
        "updated_at": LOADED,
    }
    row.update(overrides)
    return row


def procedure(procedure_id: str, start: datetime, robot_id: str, surgeon_id: str, **overrides) -> dict:
    n = int(procedure_id.split("-")[1])
    ptype, category = PROCEDURE_TYPES[n % 4]
    duration = 60 + (n * 17) % 180
    row = {
        "procedure_id": procedure_id,
        "robot_id": robot_id,
        "surgeon_id": surgeon_id,
        "facility_id": robot(robot_id)["facility_id"],
        "procedure_type": ptype,
        "procedure_category": category,
        "patient_id": f"PAT-{n:06d}",
        "patient_age": 30 + n % 50,
        "patient_gender": "F" if n % 2 else "M",
        "start_time": start,
        "end_time": start + timedelta(minutes=duration),
        "duration_minutes": duration,
        "complexity_score": Decimal(str(1 + (n % 9))) + Decimal("0.5"),
        "status": "completed",
        "created_at": start,
        "updated_at": start + timedelta(minutes=duration),
    }
    row.update(overrides)
    return row


def outcome(proc: dict, **overrides) -> dict:
    n = int(proc["procedure_id"].split("-")[1])
    row = {
        "outcome_id": f"OUT-{n:06d}",
        "procedure_id": proc["procedure_id"],
        "success_status": ["Successful", "Successful", "Partially Successful", "Unsuccessful"][n % 4],
        "blood_loss_ml": 50 + (n * 37) % 400,
        "complication_level": ["None", "Minor", "None", "Moderate"][n % 4],
        "hospital_stay_days": 1 + n % 5,
        "patient_satisfaction_score": Decimal(str(5 + n % 5)) + Decimal("0.5"),
        "readmission_30day": n % 7 == 0,
        "created_at": proc["end_time"],
        "updated_at": proc["end_time"],
        "procedure_start_time": proc["start_time"],
    }
    row.update(overrides)
    return row


def maintenance(maintenance_id: str, robot_id: str, day: date, **overrides) -> dict:
    row = {
        "maintenance_id": maintenance_id,
        "robot_id": robot_id,
        "maintenance_date": day,
        "maintenance_type": "preventive",
        "description": "Quarterly preventive maintenance",
        "technician_name": "Pat Tech",
        "downtime_hours": Decimal("4.00"),
        "cost_usd": Decimal("1200.00"),
        "software_version_after": None,
        "created_at": datetime.combine(day, datetime.min.time()),
        "updated_at": datetime.combine(day, datetime.min.time()),
    }
    row.update(overrides)
    return row


def dimension_tables() -> dict[str, list[dict]]:
    return {
        "facilities": [facility(f"FAC-{i:03d}") for i in (1, 2, 3)],
        "surgeons": [surgeon(f"SUR-{i:03d}") for i in (1, 2, 3, 4)],
        "surgical_robots": [robot(f"ROB-{i:03d}") for i in (1, 2, 3)],
        "robot_maintenance_logs": [
            maintenance("MNT-0001", "ROB-001", date(2024, 2, 15)),
            maintenance(
                "MNT-0002",
                "ROB-002",
                date(2023, 12, 1),
                maintenance_type="software_upgrade",
                software_version_after="4.2.0",
            ),
        ],
    }


def procedures(
    first_day: date = date(2024, 3, 1), days: int = 6, per_day: int = 4, start_number: int = 1
) -> list[dict]:
    """`per_day` procedures on each of `days` days, spread over the day (UTC), round-robin over robots/surgeons."""
    rows = []
    n = start_number
    for d in range(days):
        for k in range(per_day):
            start = datetime.combine(first_day + timedelta(days=d), datetime.min.time()) + timedelta(
                hours=7 + 3 * k, minutes=(n * 13) % 60
            )
            rows.append(procedure(f"PROC-{n:06d}", start, f"ROB-{(n % 3) + 1:03d}", f"SUR-{(n % 4) + 1:03d}"))
            n += 1
    return rows


def realistic_tables() -> dict[str, list[dict]]:
    procs = procedures()
    tables = dimension_tables()
    tables["surgical_procedures"] = procs
    # every procedure but the last one has an outcome already
    tables["procedure_outcomes"] = [outcome(p) for p in procs[:-1]]
    return tables
