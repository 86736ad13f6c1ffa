"""Reference values of the synthetic world: hospitals, robot models, procedure types, names, tools."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

HISTORY_START = date(2023, 1, 1)
HISTORY_END = date(2024, 12, 31)

# Sizes at scale 1 (seed 003: 10 facilities, 50 robots, 5,000 procedures, 200 maintenance logs).
BASE_COUNTS = {"facilities": 10, "robots": 50, "surgeons": 100, "procedures": 5000, "maintenance_logs": 200}

SAMPLES_PER_PROCEDURE = (80, 104)  # inclusive range; mean 92 -> ~460,000 samples at scale 1
EMERGENCY_SHARE = 0.05  # procedures that start outside business hours
WEEKEND_WEIGHT = 0.25  # a weekend day sees a quarter of a weekday's elective cases
ABORTED_SHARE = 0.005


@dataclass(frozen=True)
class Facility:
    name: str
    city: str
    state: str
    facility_type: str
    bed_count: int


FACILITIES = (
    Facility("Memorial Medical Center", "Boston", "MA", "Teaching Hospital", 850),
    Facility("St. Mary's Hospital", "New York", "NY", "Private Hospital", 600),
    Facility("Bay Area Surgical Institute", "San Francisco", "CA", "Specialty Center", 400),
    Facility("Texas Medical Complex", "Houston", "TX", "Teaching Hospital", 900),
    Facility("Pacific Northwest Regional", "Seattle", "WA", "Regional Hospital", 550),
    Facility("Lakeshore University Hospital", "Chicago", "IL", "Teaching Hospital", 780),
    Facility("Rocky Mountain Medical Center", "Denver", "CO", "Regional Hospital", 480),
    Facility("Peachtree Surgical Hospital", "Atlanta", "GA", "Private Hospital", 320),
    Facility("Desert Valley Health", "Phoenix", "AZ", "Community Hospital", 260),
    Facility("Twin Cities Robotic Surgery Center", "Minneapolis", "MN", "Specialty Center", 180),
)
# Standard-time UTC offsets by state: procedure starts are business hours "local-ish" (no DST).
STATE_UTC_OFFSETS = {"MA": -5, "NY": -5, "GA": -5, "TX": -6, "IL": -6, "MN": -6, "CO": -7, "AZ": -7, "CA": -8, "WA": -8}
DEFAULT_UTC_OFFSET = -6


def utc_offset(state: str | None) -> int:
    """Hours from UTC (standard time) for a facility's state."""
    return STATE_UTC_OFFSETS.get(state or "", DEFAULT_UTC_OFFSET)

CAMPUS_SUFFIXES = ("", " North Campus", " South Campus", " East Campus", " West Campus")


@dataclass(frozen=True)
class RobotModel:
    model: str
    manufacturer: str
    serial_prefix: str
    weight: float
    software_versions: tuple[str, ...]  # oldest first; upgrades move one step right


ROBOT_MODELS = (
    RobotModel("da Vinci Xi", "Intuitive Surgical", "SK", 0.45, ("8.2.1", "8.4.0", "9.0.2", "9.1.0", "9.3.1", "9.5.0")),
    RobotModel("da Vinci X", "Intuitive Surgical", "SX", 0.15, ("8.2.1", "8.4.0", "9.0.2", "9.1.0", "9.3.1")),
    RobotModel("da Vinci SP", "Intuitive Surgical", "SP", 0.10, ("3.1.0", "3.2.4", "3.4.0", "4.0.1")),
    RobotModel("Hugo RAS", "Medtronic", "HG", 0.12, ("1.2.0", "1.3.2", "1.5.0", "2.0.0")),
    RobotModel("Versius", "CMR Surgical", "VR", 0.10, ("4.1.0", "4.2.3", "4.4.0", "5.0.1")),
    RobotModel("Senhance", "Asensus Surgical", "SN", 0.08, ("6.0.2", "6.1.0", "6.3.1", "7.0.0")),
)
HARDWARE_REVISIONS = ("Rev A", "Rev B", "Rev C", "Rev D")


@dataclass(frozen=True)
class ProcedureType:
    name: str
    category: str
    mean_minutes: int
    complexity: float  # typical complexity score, 1-10
    gender: str | None  # procedures on one sex only
    blood_loss_ml: int  # median
    stay_days: int  # typical length of stay without complications


PROCEDURE_TYPES = (
    ProcedureType("Radical Prostatectomy", "Urology", 180, 6.5, "Male", 250, 2),
    ProcedureType("Partial Nephrectomy", "Urology", 200, 7.0, None, 200, 3),
    ProcedureType("Radical Cystectomy", "Urology", 320, 8.5, None, 450, 6),
    ProcedureType("Hysterectomy", "Gynecology", 150, 5.0, "Female", 120, 1),
    ProcedureType("Myomectomy", "Gynecology", 160, 5.5, "Female", 200, 1),
    ProcedureType("Sacrocolpopexy", "Gynecology", 170, 6.0, "Female", 100, 2),
    ProcedureType("Cholecystectomy", "General Surgery", 75, 3.0, None, 30, 1),
    ProcedureType("Inguinal Hernia Repair", "General Surgery", 90, 3.5, None, 20, 0),
    ProcedureType("Ventral Hernia Repair", "General Surgery", 130, 4.5, None, 50, 2),
    ProcedureType("Right Colectomy", "Colorectal", 200, 6.5, None, 150, 4),
    ProcedureType("Low Anterior Resection", "Colorectal", 250, 7.5, None, 200, 5),
    ProcedureType("Lobectomy", "Thoracic", 190, 7.5, None, 150, 3),
    ProcedureType("Thymectomy", "Thoracic", 150, 6.0, None, 80, 2),
    ProcedureType("Mitral Valve Repair", "Cardiac", 240, 8.5, None, 300, 5),
    ProcedureType("Sleeve Gastrectomy", "Bariatric", 100, 4.5, None, 40, 1),
    ProcedureType("Gastric Bypass", "Bariatric", 150, 5.5, None, 60, 2),
)
SPECIALIZATIONS = tuple(dict.fromkeys(p.category for p in PROCEDURE_TYPES))
SPECIALIZATION_WEIGHTS = {
    "Urology": 0.24, "Gynecology": 0.22, "General Surgery": 0.22, "Colorectal": 0.12,
    "Thoracic": 0.07, "Cardiac": 0.04, "Bariatric": 0.09,
}

CERTIFICATION_LEVELS = ("Basic", "Intermediate", "Advanced", "Expert")  # robotic-console credential, lowest first

OUTCOMES = ("Successful", "Partially Successful", "Unsuccessful")
COMPLICATION_LEVELS = ("None", "Minor", "Moderate", "Severe")

MAINTENANCE_TYPES = {  # type -> (share of logs, typical downtime hours, typical cost USD, description)
    "preventive": (0.38, 4.0, 2500, "Scheduled preventive maintenance: arm joints, drapes interface, cable tension"),
    "calibration": (0.20, 2.0, 1200, "Instrument arm and camera calibration"),
    "inspection": (0.14, 1.5, 600, "Annual safety inspection"),
    "corrective": (0.16, 10.0, 9000, "Corrective repair after fault report"),
    "software_upgrade": (0.12, 3.0, 0, "Console and system software upgrade"),
}
CORRECTIVE_FAULTS = (
    "Instrument arm 2 joint encoder replaced",
    "Vision cart light source replaced",
    "Surgeon console hand controller recalibrated after drift",
    "Patient cart drive motor replaced",
    "Fiber-optic cable between carts replaced",
    "Energy generator interface board replaced",
)
TECHNICIANS = (
    "Alex Moreno", "Priya Natarajan", "Dana Whitfield", "Marcus Lee", "Sofia Kowalski",
    "Jamal Carter", "Hannah Becker", "Luis Ortega", "Mei Tanaka", "Owen Gallagher",
)

FIRST_NAMES = (
    "James", "Maria", "Robert", "Linda", "Michael", "Aisha", "David", "Elena", "William", "Sarah",
    "Rajesh", "Jennifer", "Thomas", "Yuki", "Daniel", "Fatima", "Andrew", "Grace", "Kevin", "Olivia",
    "Carlos", "Emily", "Samuel", "Ananya", "Jonathan", "Rachel", "Benjamin", "Chloe", "Victor", "Naomi",
    "Henry", "Leila", "Patrick", "Ingrid", "Omar", "Claire", "Nathan", "Sophie", "Ethan", "Mariana",
)
LAST_NAMES = (
    "Anderson", "Patel", "Nguyen", "Okafor", "Schmidt", "Rossi", "Kim", "Garcia", "Johnson", "Cohen",
    "Murphy", "Singh", "Hernandez", "Chen", "Williams", "Novak", "Brown", "Yamamoto", "Davis", "Haddad",
    "Miller", "Lopez", "Wilson", "Ivanova", "Moore", "Taylor", "Martin", "Ali", "Clark", "Fischer",
    "Walker", "Young", "Hall", "Silva", "Wright", "King", "Scott", "Adams", "Baker", "Nakamura",
)

TOOLS = (
    "grasper", "needle_driver", "scissors", "cautery_hook", "bipolar_forceps", "stapler", "clip_applier", "suction_irrigator",
)
