"""One resource set per environment (MEDROBOTICS_ENV): `local` for laptops and CI, `prod` for AWS.

The composition root: it puts the resources, the IO managers and the dbt project together, for the code location
(`definitions.py`) and for the commands (`command_resources`), so that both always use the same databases and lake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import dagster as dg

from medrobotics_dagster import settings
from medrobotics_dagster.io_managers import LakeParquetIOManager, WarehouseIOManager
from medrobotics_dagster.resources.databases import SourceDatabase, Warehouse
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.resources.pseudonymizer import KEY_SETTING as PATIENT_ID_KEY_SETTING
from medrobotics_dagster.resources.pseudonymizer import Pseudonymizer
from medrobotics_dagster.resources.telemetry_queue import TelemetryQueue

Resource = TypeVar("Resource", bound=dg.ConfigurableResource)


def _stores(environment: str) -> tuple[SourceDatabase, Warehouse, Lake, Pseudonymizer]:
    """The environment's source database, warehouse, lake and pseudonymization key."""
    if environment == "prod":  # RDS, Redshift and S3; every secret through dg.EnvVar, resolved at run time
        return (
            SourceDatabase(url=dg.EnvVar(settings.SOURCE_DB_URL)),
            Warehouse(
                url=dg.EnvVar(settings.WAREHOUSE_URL),
                dialect=settings.warehouse_dialect(),
                iam_role=dg.EnvVar(settings.REDSHIFT_IAM_ROLE),
            ),
            Lake(url=dg.EnvVar(settings.LAKE_URL)),
            Pseudonymizer(key=dg.EnvVar(PATIENT_ID_KEY_SETTING)),
        )
    # local: URLs from the environment when set, else an embedded PostgreSQL and `.medrobotics/lake` (at run time)
    return SourceDatabase(), Warehouse(dialect=settings.warehouse_dialect()), Lake(), Pseudonymizer()


def resources_for_environment(environment: str | None = None) -> dict[str, Any]:
    """Every resource the definitions use, for `environment` (default: MEDROBOTICS_ENV)."""
    # dagster-dbt loads in seconds: imported only where runs need it, not by commands that use the stores alone
    from medrobotics_dagster.defs.warehouse.dbt_project import dbt_cli_resource

    source_db, warehouse, lake, pseudonymizer = _stores(environment or settings.environment())
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


def read_env_vars(resource: Resource) -> Resource:
    """The resource with each `dg.EnvVar` field read now, as a run would (an unset one: None, so that the resource
    itself reports the setting it needs), for use outside a run."""
    fields = {name: getattr(resource, name) for name in type(resource).model_fields}
    read = {name: value.get_value() if isinstance(value, dg.EnvVar) else value for name, value in fields.items()}
    return type(resource)(**read)


@dataclass(frozen=True)
class CommandResources:
    """The environment's source database, warehouse and lake, as the commands use them outside a run."""

    source: SourceDatabase
    warehouse: Warehouse
    lake: Lake


def command_resources(environment: str | None = None) -> CommandResources:
    """The resources a command works on: those of the environment's resource set, the very ones its runs use."""
    source, warehouse, lake, _ = _stores(environment or settings.environment())
    return CommandResources(read_env_vars(source), read_env_vars(warehouse), read_env_vars(lake))
