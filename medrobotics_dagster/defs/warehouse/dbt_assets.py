"""dbt models, snapshots and tests as assets and checks: the unpartitioned warehouse, and the daily facts."""


import json

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from medrobotics_dagster.defs.warehouse.dbt_environment import dbt_warehouse_env
from medrobotics_dagster.defs.warehouse.dbt_project import dbt_project, ensure_manifest
from medrobotics_dagster.defs.warehouse.dbt_translator import warehouse_translator
from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster.resources.databases import Warehouse

# Incremental models are the daily-partitioned facts; everything else is rebuilt or snapshotted whole.
DAILY_SELECT = "config.materialized:incremental"
# Everything else: snapshots, tables and views, plus the dimension sources so that their tests run (and gate
# the snapshots). The daily sources stay out: on a fresh warehouse their tables do not exist yet.
WHOLE_SELECT = (
    "resource_type:snapshot config.materialized:table config.materialized:view "
    "source:staging.facilities source:staging.surgeons source:staging.surgical_robots source:staging.robot_maintenance_logs"
)

# Snapshots are stateful: two concurrent runs would both insert the same new versions (dagster#17560).
SNAPSHOT_POOL = "warehouse_snapshots"

DBT_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)

manifest_path = ensure_manifest()


@dbt_assets(
    manifest=manifest_path,
    project=dbt_project,
    select=WHOLE_SELECT,
    dagster_dbt_translator=warehouse_translator,
    pool=SNAPSHOT_POOL,
    retry_policy=DBT_RETRY_POLICY,
)
def warehouse_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """Snapshots, SCD2 dimensions, dim_date and dim_time, built with `dbt build`."""
    # cautious: a test runs only when all its parents are in this run; the facts' relationship tests belong
    # to the daily runs (on a fresh warehouse the facts do not exist yet here).
    with dbt_warehouse_env(warehouse):
        invocation = dbt.cli(["build", "--indirect-selection", "cautious"], context=context)
    yield from invocation.stream()


def partition_vars(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The run's partition window (one day, or a whole backfill range) as dbt vars; end exclusive."""
    window = context.partition_time_window
    return {"min_date": window.start.strftime("%Y-%m-%d"), "max_date": window.end.strftime("%Y-%m-%d")}


@dbt_assets(
    manifest=manifest_path,
    project=dbt_project,
    select=DAILY_SELECT,
    dagster_dbt_translator=warehouse_translator,
    partitions_def=daily_partitions,
    # One run and one SQL statement per model for a whole range (parallel runs corrupt dbt temp tables, dagster#17778).
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=DBT_RETRY_POLICY,
)
def daily_fact_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """fact_procedures and its quarantine, replaced exactly for the partition window."""
    with dbt_warehouse_env(warehouse):
        invocation = dbt.cli(["build", "--vars", json.dumps(partition_vars(context))], context=context)
    yield from invocation.stream()
