"""One resource set per environment (MEDROBOTICS_ENV): `local` for laptops and CI, `prod` for AWS."""

from __future__ import annotations

from typing import Any

import dagster as dg

from medrobotics_dagster import settings
from medrobotics_dagster.defs.warehouse.dbt_project import dbt_cli_resource
from medrobotics_dagster.io_managers.lake_parquet_io_manager import LakeParquetIOManager
from medrobotics_dagster.io_managers.warehouse_io_manager import WarehouseIOManager
from medrobotics_dagster.resources.databases import SourceDatabase, Warehouse
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.resources.pseudonymizer import KEY_SETTING as PATIENT_ID_KEY_SETTING
from medrobotics_dagster.resources.pseudonymizer import Pseudonymizer
from medrobotics_dagster.resources.telemetry_queue import TelemetryQueue


def _assemble(
    source_db: SourceDatabase, warehouse: Warehouse, lake: Lake, pseudonymizer: Pseudonymizer
) -> dict[str, Any]:
    return {
        "source_db": source_db,
        "pseudonymizer": pseudonymizer,
        "telemetry_queue": TelemetryQueue(),
        "warehouse": warehouse,
        "lake": lake,
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse, lake=lake),
        "lake_io_manager": LakeParquetIOManager(lake=lake),
        "dbt": dbt_cli_resource(),
    }


def local_resources() -> dict[str, Any]:
    """URLs from the environment if set, else an embedded PostgreSQL and `.medrobotics/lake` (resolved at run time)."""
    return _assemble(SourceDatabase(), Warehouse(dialect=settings.warehouse_dialect()), Lake(), Pseudonymizer())


def prod_resources() -> dict[str, Any]:
    """RDS, Redshift and S3; every secret through dg.EnvVar, resolved at run time."""
    return _assemble(
        SourceDatabase(url=dg.EnvVar(settings.SOURCE_DB_URL)),
        Warehouse(
            url=dg.EnvVar(settings.WAREHOUSE_URL),
            dialect=settings.warehouse_dialect(),
            iam_role=dg.EnvVar(settings.REDSHIFT_IAM_ROLE),
        ),
        Lake(url=dg.EnvVar(settings.LAKE_URL)),
        Pseudonymizer(key=dg.EnvVar(PATIENT_ID_KEY_SETTING)),
    )


def resources_for_environment(environment: str | None = None) -> dict[str, Any]:
    return {"local": local_resources, "prod": prod_resources}[environment or settings.environment()]()
