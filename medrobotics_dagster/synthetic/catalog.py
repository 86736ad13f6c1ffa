"""Reference values of the synthetic world: hospitals, robot models, procedure types, names, tools."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

HISTORY_START = date(2023, 1, 1)
HISTORY_END = date(2024, 12, 31)

# Sizes at scale 1, the fleet the platform is sized for (docs/architecture.md, "Synthetic data").
BASE_COUNTS = {"facilities": 10, "robots": 50, "surgeons": 100, "procedures": 5000, "maintenance_logs": 200}

SAMPLES_PER_PROCEDURE = (80, 104)  # inclusive range; mean 92 -> ~460,000 samples at scale 1
EMERGENCY_SHARE = 0.05  # procedures that may start at any hour of the local day
# Elective cases: first cases from 07:30 local, the last one starting by 16:00 (17:00 if pushed back by a busy robot).
MORNING_STARTS = (7 * 60 + 30, 12 * 60)  # local minutes [from, to), 5-minute grid
AFTERNOON_STARTS = (12 * 60, 16 * 60 + 5)
MORNING_SHARE = 0.55
LATEST_ELECTIVE_START = 17 * 60
TURNOVER_MINUTES = (30, 60)  # cleaning and set-up between two cases on a robot (and for the surgeon)
WEEKEND_WEIGHT = 0.25  # a weekend day sees a quarter of a weekday's cases
HOLIDAY_WEIGHT = 0.12  # a holiday (dim_date's: Jan 1, Jul 4, Dec 25) mostly sees emergencies
HOLIDAYS = ((1, 1), (7, 4), (12, 25))  # (month, day), as dim_date marks is_holiday
ANNUAL_GROWTH = 0.10  # case volume grows by a tenth a year
SEASON_AMPLITUDE = 0.06  # elective volume peaks in winter and dips in summer by this fraction
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
# IANA time zone of each state's hospitals (Arizona keeps standard time all year).
STATE_TIME_ZONES = {
    "MA": "America/New_York",
    "NY": "America/New_York",
    "GA": "America/New_York",
    "TX": "America/Chicago",
    "IL": "America/Chicago",
    "MN": "America/Chicago",
    "CO": "America/Denver",
    "AZ": "America/Phoenix",
    "CA": "America/Los_Angeles",
    "WA": "America/Los_Angeles",
}
DEFAULT_TIME_ZONE = "America/Chicago"


def time_zone(state: str | None) -> str:
    """The IANA time zone of a facility in `state`."""
    return STATE_TIME_ZONES.get(state or "", DEFAULT_TIME_ZONE)


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
    "Urology": 0.24,
    "Gynecology": 0.22,
    "General Surgery": 0.22,
    "Colorectal": 0.12,
    "Thoracic": 0.07,
    "Cardiac": 0.04,
    "Bariatric": 0.09,
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
CORRECTIVE_FAULTS = (  # the fault code the robot reported, then the repair
    "E-2104 arm joint position error: instrument arm 2 joint encoder replaced",
    "E-3310 video signal lost: vision cart light source replaced",
    "E-1207 hand controller drift: surgeon console hand controller recalibrated",
    "E-4021 drive overcurrent: patient cart drive motor replaced",
    "E-3302 video link degraded: fiber-optic cable between carts replaced",
    "E-5108 energy interface fault: generator interface board replaced",
)
TECHNICIANS = (
    "Alex Moreno",
    "Priya Natarajan",
    "Dana Whitfield",
    "Marcus Lee",
    "Sofia Kowalski",
    "Jamal Carter",
    "Hannah Becker",
    "Luis Ortega",
    "Mei Tanaka",
    "Owen Gallagher",
)

FIRST_NAMES = (
    "James",
    "Maria",
    "Robert",
    "Linda",
    "Michael",
    "Aisha",
    "David",
    "Elena",
    "William",
    "Sarah",
    "Rajesh",
    "Jennifer",
    "Thomas",
    "Yuki",
    "Daniel",
    "Fatima",
    "Andrew",
    "Grace",
    "Kevin",
    "Olivia",
    "Carlos",
    "Emily",
    "Samuel",
    "Ananya",
    "Jonathan",
    "Rachel",
    "Benjamin",
    "Chloe",
    "Victor",
    "Naomi",
    "Henry",
    "Leila",
    "Patrick",
    "Ingrid",
    "Omar",
    "Claire",
    "Nathan",
    "Sophie",
    "Ethan",
    "Mariana",
)
LAST_NAMES = (
    "Anderson",
    "Patel",
    "Nguyen",
    "Okafor",
    "Schmidt",
    "Rossi",
    "Kim",
    "Garcia",
    "Johnson",
    "Cohen",
    "Murphy",
    "Singh",
    "Hernandez",
    "Chen",
    "Williams",
    "Novak",
    "Brown",
    "Yamamoto",
    "Davis",
    "Haddad",
    "Miller",
    "Lopez",
    "Wilson",
    "Ivanova",
    "Moore",
    "Taylor",
    "Martin",
    "Ali",
    "Clark",
    "Fischer",
    "Walker",
    "Young",
    "Hall",
    "Silva",
    "Wright",
    "King",
    "Scott",
    "Adams",
    "Baker",
    "Nakamura",
)

TOOLS = (
    "grasper",
    "needle_driver",
    "scissors",
    "cautery_hook",
    "bipolar_forceps",
    "stapler",
    "clip_applier",
    "suction_irrigator",
)
