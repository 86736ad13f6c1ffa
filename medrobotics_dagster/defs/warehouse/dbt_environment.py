"""dbt reads its connection from MEDROBOTICS_DBT_* variables; they come from the Warehouse resource's URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from medrobotics_dagster import settings
from medrobotics_dagster.defs.warehouse.dbt_parse_state import ensure_partial_parse
from medrobotics_dagster.resources.embedded_postgres import running_database_url
from medrobotics_dagster.resources.postgres_connection import Dialect, connection_params

if TYPE_CHECKING:  # the resource's module loads Dagster; `medrobotics query` uses this module without it
    from medrobotics_dagster.resources.databases import Warehouse


def dbt_connection_env(url: str, dialect: Dialect) -> dict[str, str]:
    """profiles.yml's variables for a URL, from the same parsed parameters the Python connections use."""
    params = connection_params(url, dialect)
    return {
        "MEDROBOTICS_DBT_TARGET": params.dialect,
        "MEDROBOTICS_DBT_HOST": params.host,
        "MEDROBOTICS_DBT_PORT": str(params.port),
        "MEDROBOTICS_DBT_USER": params.user,
        "MEDROBOTICS_DBT_PASSWORD": params.password,
        "MEDROBOTICS_DBT_DBNAME": params.dbname,
        "MEDROBOTICS_DBT_SSLMODE": params.sslmode,
        "MEDROBOTICS_DBT_CONNECT_TIMEOUT": str(params.connect_timeout_s),
        "MEDROBOTICS_DBT_KEEPALIVES_IDLE": str(params.keepalives_idle_s),
        "MEDROBOTICS_DBT_KEEPALIVES_INTERVAL": str(params.keepalives_interval_s),
        "MEDROBOTICS_DBT_KEEPALIVES_COUNT": str(params.keepalives_count),
    }


def known_connection_env() -> dict[str, str] | None:
    """The configured warehouse's variables when known without starting anything (MEDROBOTICS_WAREHOUSE_URL is set,
    or this process already runs the embedded server), else None."""
    url = os.environ.get(settings.WAREHOUSE_URL, "").strip() or running_database_url(settings.WAREHOUSE_DB_NAME)
    return dbt_connection_env(url, settings.warehouse_dialect()) if url else None


# Whether dbt's on-run-start hook may create the telemetry fact empty when it is missing (macros/telemetry_fact.sql).
TELEMETRY_FACT_HOOK = "MEDROBOTICS_DBT_CREATE_TELEMETRY_FACT"


def dbt_window_env(first_day: str, end_day: str) -> dict[str, str]:
    """The incremental facts' partition window [first_day, end_day) for macros/partition_window.sql."""
    return {"MEDROBOTICS_DBT_MIN_DATE": first_day, "MEDROBOTICS_DBT_MAX_DATE": end_day}


@contextmanager
def dbt_warehouse_env(
    warehouse: Warehouse, window: dict[str, str] | None = None, telemetry_fact_loaded: bool | None = None
) -> Iterator[None]:
    """Set the variables (and the partition window, if any) while a dbt process is started (it copies os.environ),
    then restore them; first make sure dbt's partial-parse state was written with the same connection settings
    (else every call re-parses). `telemetry_fact_loaded` (Dagster lists loaded days of the telemetry fact) turns
    off dbt's hook that creates that table empty: a missing one is then lost, for its loader to report."""
    connection = dbt_connection_env(warehouse.resolved_url(), warehouse.dialect)
    # dbt partial-parses only when the profile matches the one target/partial_parse.msgpack was written with.
    ensure_partial_parse(connection)
    hook = {} if telemetry_fact_loaded is None else {TELEMETRY_FACT_HOOK: "false" if telemetry_fact_loaded else "true"}
    with dbt_process_env({**connection, **dbt_window_env("", ""), **hook, **(window or {})}):
        yield


@contextmanager
def dbt_process_env(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` while the block runs (dbt processes copy it when they start), then as before."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
