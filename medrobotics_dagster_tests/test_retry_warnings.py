"""A retried step says so at WARNING (Dagster logs its own STEP_UP_FOR_RETRY at DEBUG only): which step, which
attempt of how many, and the cause. The fault is real: the warehouse refuses connections (ALTER DATABASE …
ALLOW_CONNECTIONS false, as for maintenance) until the step's first attempt has failed."""

from __future__ import annotations

import logging
import threading

import dagster as dg

from medrobotics_dagster.defs.warehouse.dbt_assets import warehouse_dbt_models
from medrobotics_dagster.defs.warehouse.dbt_project import dbt_cli_resource
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster_tests.test_faults import (  # noqa: F401 - facilities_source is a fixture
    allow_connections,
    facilities_extract,
    facilities_source,
    materialize_extract,
    reopen_after_a_retry,
)
from medrobotics_dagster_tests.warehouse.staging_fixture import load_staging


def reopen_after_first_retry(instance: dg.DagsterInstance, url: str) -> threading.Thread:
    """Open the database again once the run (the instance's latest) records a step up for retry."""
    return reopen_after_a_retry(instance, url, lambda: [run.run_id for run in instance.get_runs(limit=1)], 300)


def the_retry_warning(instance: dg.DagsterInstance, run_id: str) -> str:
    """The run's one WARNING line of a retry after the database refused connections."""
    warnings = [e.user_message for e in instance.all_logs(run_id) if e.level == logging.WARNING]
    retried = [m for m in warnings if "not currently accepting connections" in m]  # one line per retry
    assert len(retried) == 1, warnings
    assert retried[0].endswith("; retrying")
    return retried[0]


def test_a_dbt_step_that_lost_its_warehouse_is_retried_with_a_warning(warehouse_url, monkeypatch):
    load_staging(warehouse_url)  # the staging tables the warehouse models read, empty
    # The retry policy's jitter drawn low: the second attempt starts ~6 s after the first failed, not 0-60 s.
    monkeypatch.setattr("dagster._core.definitions.policy.random", lambda: 0.1)
    instance = dg.DagsterInstance.ephemeral()
    allow_connections(warehouse_url, False)
    watcher = reopen_after_first_retry(instance, warehouse_url)
    try:
        result = dg.materialize(
            [warehouse_dbt_models],
            resources={"dbt": dbt_cli_resource(), "warehouse": Warehouse(url=warehouse_url)},
            instance=instance,
            raise_on_error=False,
        )
    finally:
        watcher.join()
    assert result.success
    assert len([e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]) == 1
    assert the_retry_warning(instance, result.run_id).startswith(
        "attempt 1 of 3 of dbt step warehouse_dbt_models failed (transient fault, DbtConnectionLost): "
        "dbt build: dbt lost its database connection: "
    )


def test_a_python_extract_whose_source_refuses_connections_is_retried_with_a_warning(
    facilities_source,  # noqa: F811 - the fixture imported above
    warehouse_url,
    tmp_path,
    monkeypatch,
):
    asset = facilities_extract(monkeypatch, dg.RetryPolicy(max_retries=2, delay=2))
    instance = dg.DagsterInstance.ephemeral()
    allow_connections(facilities_source, False)
    watcher = reopen_after_first_retry(instance, facilities_source)
    try:
        result = materialize_extract(asset, facilities_source, warehouse_url, tmp_path, instance)
    finally:
        watcher.join()
    assert result.success
    assert the_retry_warning(instance, result.run_id).startswith(
        "attempt 1 of 3 of staging/facilities failed (transient fault, connection lost or refused): "
        "MEDROBOTICS_SOURCE_DB_URL: cannot connect to "
    )
