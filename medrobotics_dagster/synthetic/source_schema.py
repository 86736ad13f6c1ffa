"""The operational schema in the source database: applying, dropping, inspecting and bulk loading it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

import psycopg2.extensions
from psycopg2 import sql

import medrobotics_dagster

# Parents before children: the order rows are loaded in (and the reverse of the order tables are dropped in).
COLUMNS: dict[str, tuple[str, ...]] = {
    "facilities": (
        "facility_id",
        "facility_name",
        "city",
        "state",
        "country",
        "time_zone",
        "facility_type",
        "bed_count",
        "created_at",
        "updated_at",
    ),
    "surgeons": (
        "surgeon_id",
        "surgeon_name",
        "specialization",
        "years_experience",
        "certification_level",
        "facility_id",
        "created_at",
        "updated_at",
    ),
    "surgical_robots": (
        "robot_id",
        "robot_serial_number",
        "robot_model",
        "manufacturer",
        "facility_id",
        "install_date",
        "software_version",
        "hardware_revision",
        "status",
        "last_maintenance_date",
        "total_procedures_count",
        "total_operating_hours",
        "created_at",
        "updated_at",
    ),
    "surgical_procedures": (
        "procedure_id",
        "robot_id",
        "surgeon_id",
        "facility_id",
        "procedure_type",
        "procedure_category",
        "patient_id",
        "patient_age",
        "patient_gender",
        "start_time",
        "end_time",
        "duration_minutes",
        "complexity_score",
        "status",
        "created_at",
        "updated_at",
    ),
    "procedure_outcomes": (
        "outcome_id",
        "procedure_id",
        "success_status",
        "blood_loss_ml",
        "complication_level",
        "hospital_stay_days",
        "patient_satisfaction_score",
        "readmission_30day",
        "created_at",
        "updated_at",
    ),
    "robot_maintenance_logs": (
        "maintenance_id",
        "robot_id",
        "maintenance_date",
        "maintenance_type",
        "description",
        "technician_name",
        "downtime_hours",
        "cost_usd",
        "software_version_after",
        "created_at",
        "updated_at",
    ),
}
TABLES = tuple(COLUMNS)


def schema_path() -> Path:
    """sql/operational/schema.sql next to the package (it ships with the project checkout)."""
    return Path(medrobotics_dagster.__file__).resolve().parent.parent / "sql" / "operational" / "schema.sql"


def apply_schema(conn: psycopg2.extensions.connection) -> None:
    """Create the operational tables if they are missing (the DDL is idempotent)."""
    path = schema_path()
    if not path.is_file():
        raise FileNotFoundError(f"operational schema not found at {path}")
    with conn.cursor() as cur:
        cur.execute(path.read_text())


def drop_tables(conn: psycopg2.extensions.connection) -> None:
    """Drop every operational table (and whatever depends on it)."""
    with conn.cursor() as cur:
        for table in reversed(TABLES):
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table)))


def row_counts(conn: psycopg2.extensions.connection) -> dict[str, int]:
    """Rows in each operational table that exists (missing tables are left out)."""
    counts = {}
    with conn.cursor() as cur:
        for table in TABLES:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{table}",))
            if cur.fetchone()[0]:
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
                counts[table] = cur.fetchone()[0]
    return counts


def copy_rows(conn: psycopg2.extensions.connection, table: str, rows: Iterable[Mapping]) -> int:
    """Bulk-load dict rows into `table` with COPY ... FROM STDIN (CSV); None becomes NULL."""
    columns = COLUMNS[table]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    count = 0
    for row in rows:
        writer.writerow([_csv_value(row[c]) for c in columns])
        count += 1
    buffer.seek(0)
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cur:
        cur.copy_expert(statement.as_string(conn), buffer)
    return count


def _csv_value(value):
    if value is None:
        return ""  # unquoted empty field = NULL in COPY CSV
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
