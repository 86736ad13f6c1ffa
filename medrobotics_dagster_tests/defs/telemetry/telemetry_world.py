"""The telemetry tests' world: a source database with two facilities in different time zones, one robot, one
surgeon and five procedures, extracted to a warehouse by the real staging assets, and a lake for raw files."""

from __future__ import annotations

import gzip
from datetime import date, datetime, timedelta

import dagster as dg
import psycopg2

from medrobotics_dagster.defs.staging.operational_extracts import extract_assets, staging_key
from medrobotics_dagster.defs.telemetry.assets import telemetry_assets
from medrobotics_dagster.defs.telemetry.schema import FACT_COLUMNS, QUARANTINE_COLUMNS
from medrobotics_dagster.io_managers.lake_parquet_io_manager import LakeParquetIOManager
from medrobotics_dagster.io_managers.warehouse_io_manager import WarehouseIOManager
from medrobotics_dagster.resources.databases import SourceDatabase, Warehouse
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.resources.pseudonymizer import Pseudonymizer
from medrobotics_dagster.synthetic.source_schema import apply_schema
from medrobotics_dagster_tests.database import query

# procedure id -> (facility, UTC start)
PROCEDURES = {
    "PROC-A": ("FAC-NY", datetime(2024, 1, 15, 8, 0)),
    "PROC-B": ("FAC-BER", datetime(2024, 1, 15, 13, 0)),
    "PROC-C": ("FAC-NY", datetime(2024, 1, 16, 9, 0)),
    "PROC-D": ("FAC-BER", datetime(2024, 1, 17, 7, 0)),
    "PROC-OLD": ("FAC-NY", datetime(2024, 1, 14, 22, 0)),  # crosses midnight into the 15th
}
FACILITIES = {"FAC-NY": "America/New_York", "FAC-BER": "Europe/Berlin"}
EXTRACT_DAYS = ("2024-01-13", "2024-01-18")

FACT_COMPARED = [c.name for c in FACT_COLUMNS if c.name != "created_at"]
QUARANTINE_COMPARED = [c.name for c in QUARANTINE_COLUMNS if c.name not in ("quarantined_at", "load_id")]


def seed_source(url: str, procedures=PROCEDURES) -> None:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            apply_schema(conn)
            for facility, zone in FACILITIES.items():
                cur.execute(
                    "INSERT INTO facilities (facility_id, facility_name, time_zone) VALUES (%s, %s, %s)",
                    (facility, f"Hospital {facility}", zone),
                )
            cur.execute(
                "INSERT INTO surgeons (surgeon_id, surgeon_name, facility_id) VALUES ('SUR-1', 'Dr One', 'FAC-NY')"
            )
            cur.execute(
                "INSERT INTO surgical_robots (robot_id, robot_serial_number, robot_model, facility_id) "
                "VALUES ('ROB-007', 'SN-7', 'Model X', 'FAC-NY')"
            )
            for pid, (facility, start) in procedures.items():
                cur.execute(
                    "INSERT INTO surgical_procedures (procedure_id, robot_id, surgeon_id, facility_id, procedure_type, "
                    "procedure_category, start_time, end_time) VALUES (%s, 'ROB-007', 'SUR-1', %s, 'Appendectomy', "
                    "'General', %s AT TIME ZONE 'UTC', %s AT TIME ZONE 'UTC')",
                    (pid, facility, start, start + timedelta(hours=2)),
                )
    finally:
        conn.close()


def resources(warehouse_url: str, lake_url: str, source_url: str | None = None) -> dict:
    lake = Lake(url=lake_url)
    warehouse = Warehouse(url=warehouse_url)
    out = {
        "lake": lake,
        "warehouse": warehouse,
        "lake_io_manager": LakeParquetIOManager(lake=lake),
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse, lake=lake),
    }
    if source_url:
        out["source_db"] = SourceDatabase(url=source_url)
        out["pseudonymizer"] = Pseudonymizer(key="k" * 32)
    return out


def extract_procedures(world) -> None:
    """The real staging extracts: facilities (time zones) whole, surgical_procedures for the test days."""
    by_key = {a.key: a for a in extract_assets}
    res = resources(world.warehouse_url, world.lake_url, world.source_url)
    assert dg.materialize([by_key[staging_key("facilities")]], resources=res).success
    start, end = EXTRACT_DAYS
    assert dg.materialize(
        [by_key[staging_key("surgical_procedures")]],
        resources=res,
        tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
    ).success


class World:
    def __init__(self, source_url, warehouse_url, lake_url):
        self.source_url, self.warehouse_url, self.lake_url = source_url, warehouse_url, lake_url
        self.lake = Lake(url=lake_url)

    def put(self, procedure_id: str, day: date, lines: list[bytes], gz: bool = False) -> str:
        key = f"raw/telemetry/procedure-{procedure_id}/{day.strftime('%Y%m%d')}.json" + (".gz" if gz else "")
        data = b"\n".join(lines) + b"\n"
        self.lake.put(key, gzip.compress(data) if gz else data)
        return key

    def materialize(self, partition_key: str | None = None, *, tags=None, run_config=None) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            telemetry_assets,
            partition_key=partition_key,
            tags=tags,
            run_config=run_config,
            resources=resources(self.warehouse_url, self.lake_url),
            raise_on_error=False,
        )

    def fact(self, day: date | None = None) -> list[tuple]:
        where = (
            ""
            if day is None
            else f" WHERE sample_timestamp >= '{day}' AND sample_timestamp < '{day + timedelta(days=1)}'"
        )
        return query(
            self.warehouse_url,
            f"SELECT {', '.join(FACT_COMPARED)} FROM analytics.fact_procedure_telemetry{where} ORDER BY telemetry_key",
        )

    def quarantine(self, day: date | None = None) -> list[tuple]:
        where = "" if day is None else f" WHERE partition_start = '{day}'"
        return query(
            self.warehouse_url,
            f"SELECT {', '.join(QUARANTINE_COMPARED)} "
            f"FROM analytics.telemetry_quarantine{where} ORDER BY source_key, line_number",
        )
