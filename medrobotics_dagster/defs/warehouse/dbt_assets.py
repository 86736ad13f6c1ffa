"""dbt models, snapshots and tests as assets and checks: the unpartitioned warehouse, and the daily facts."""

from collections.abc import Iterator

import dagster as dg
from dagster_dbt import DbtCliInvocation, DbtCliResource, dbt_assets
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from medrobotics_dagster.defs.warehouse.dbt_column_lineage import lineage_manifest
from medrobotics_dagster.defs.warehouse.dbt_environment import dbt_warehouse_env, dbt_window_env
from medrobotics_dagster.defs.warehouse.dbt_event_stream import use_waiting_imap
from medrobotics_dagster.defs.warehouse.dbt_lineage_cache import use_cached_column_lineage
from medrobotics_dagster.defs.warehouse.dbt_project import (
    adapter_when_open,
    dbt_project,
    ensure_manifest,
    prune_invocation_targets,
)
from medrobotics_dagster.defs.warehouse.dbt_translator import warehouse_translator
from medrobotics_dagster.defs.warehouse.fact_partition_metadata import with_partition_row_counts
from medrobotics_dagster.defs.warehouse.view_metadata import with_view_metadata
from medrobotics_dagster.faults import fail_fast_on_permanent_faults, raise_for_dbt_failure
from medrobotics_dagster.io_managers import retries_logged
from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster.resources.databases import Warehouse

# Incremental models are the daily-partitioned facts; everything else is rebuilt or snapshotted whole. The daily
# staging sources are selected too: their tests are checks of this step (dagster-dbt puts a source's tests on the
# assets downstream of it), and `dbt build` runs a source's tests only when the source itself is selected.
DAILY_SOURCES = "source:staging.surgical_procedures source:staging.procedure_outcomes"
DAILY_SELECT = f"config.materialized:incremental {DAILY_SOURCES}"
# The analysts' eleven vw_* views (docs/views.md): downstream of the daily facts and the telemetry fact, built in
# their own step after them. (The telemetry fact's keys are checked by its loader: defs/telemetry/checks.py.)
VIEWS_SELECT = "path:models/views"
# Everything else: snapshots, tables and the intermediate views, plus the dimension sources so that their tests
# run (and gate the snapshots). The daily sources stay out: on a fresh warehouse their tables do not exist yet.
WHOLE_SELECT = (
    "resource_type:snapshot config.materialized:table config.materialized:view "
    "source:staging.facilities source:staging.surgeons source:staging.surgical_robots "
    "source:staging.robot_maintenance_logs"
)
WHOLE_EXCLUDE = "path:models/views"

# Snapshots are stateful: two concurrent runs would both insert the same new versions (dagster#17560).
SNAPSHOT_POOL = "warehouse_snapshots"

# For dropped connections and the like. A deterministic dbt failure (an error-severity test that fails, a
# compilation or SQL error) fails at once instead: see run_dbt.
DBT_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def run_dbt(invocation: DbtCliInvocation) -> Iterator:
    """Stream a dbt invocation's events with column metadata and column lineage; on failure, a deterministic
    problem raises dg.Failure(allow_retries=False) so the retry policy does not repeat a run that cannot pass,
    and a lost connection is retried with a WARNING naming the attempt and dbt's message."""
    invocation.manifest = lineage_manifest(invocation.manifest)  # lineage through ephemeral models
    adapter_when_open(invocation)
    try:
        yield from invocation.stream().fetch_column_metadata()
    except DagsterDbtCliRuntimeError as exc:
        context = invocation.context
        with retries_logged(context, f"dbt step {context.op_def.name}"):
            raise_for_dbt_failure(invocation, str(exc))  # permanent: fails at once; a lost connection: retried
    finally:
        prune_invocation_targets()


def telemetry_fact_loaded(context: dg.AssetExecutionContext) -> bool:
    """Dagster lists loaded days of the telemetry fact: dbt must not create it empty when it is missing."""
    from medrobotics_dagster.defs.telemetry.assets import FACT_KEY

    return bool(context.instance.get_materialized_partitions(FACT_KEY))


manifest_path = ensure_manifest()
use_waiting_imap()
use_cached_column_lineage()


@dbt_assets(
    manifest=manifest_path,
    project=dbt_project,
    select=WHOLE_SELECT,
    exclude=WHOLE_EXCLUDE,
    dagster_dbt_translator=warehouse_translator,
    pool=SNAPSHOT_POOL,
    retry_policy=DBT_RETRY_POLICY,
)
def warehouse_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """Snapshots, SCD2 dimensions, dim_date and dim_time, built with `dbt build`."""
    # cautious: a test runs only when all its parents are in this run; the facts' relationship tests belong
    # to the daily runs (on a fresh warehouse the facts do not exist yet here).
    with dbt_warehouse_env(warehouse, telemetry_fact_loaded=telemetry_fact_loaded(context)):
        invocation = dbt.cli(["build", "--indirect-selection", "cautious"], context=context)
        yield from run_dbt(invocation)


def partition_window_env(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The run's partition window (one day, or a whole backfill range) for dbt; end exclusive."""
    window = context.partition_time_window
    return dbt_window_env(window.start.strftime("%Y-%m-%d"), window.end.strftime("%Y-%m-%d"))


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
    with dbt_warehouse_env(warehouse, partition_window_env(context), telemetry_fact_loaded(context)):
        invocation = dbt.cli(["build"], context=context)
        # each partition's materialization carries its own row count (the Plots tab: one point per day)
        yield from with_partition_row_counts(run_dbt(invocation), invocation.manifest, warehouse, context)


# dbt's incremental facts, created empty (an empty partition window) when missing, so that views can be created
# over them before their first partition is loaded (a PostgreSQL view needs its tables to exist).
DBT_FACTS = ("fact_procedures", "fact_procedures_quarantine")
EMPTY_WINDOW = dbt_window_env("1970-01-01", "1970-01-01")


def missing_tables(warehouse: Warehouse, schema: str, tables: tuple[str, ...]) -> list[str]:
    rows = warehouse.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_name IN %s",
        (schema, tables),
    )
    present = {name for (name,) in rows}
    return [t for t in tables if t not in present]


def ensure_view_inputs(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse) -> None:
    """Create, EMPTY, any table the views read that was never loaded: the telemetry fact through its own loader's
    DDL (the columns module owns it), the dbt facts by a dbt run over an empty window. Rows are never touched."""
    from medrobotics_dagster.defs.telemetry.assets import FACT_KEY, WAREHOUSE_SCHEMA
    from medrobotics_dagster.defs.telemetry.schema import FACT_COLUMNS, FACT_DISTKEY, FACT_SORTKEY
    from medrobotics_dagster.io_managers import TableTarget, create_if_missing

    loaded = len(context.instance.get_materialized_partitions(FACT_KEY))
    create_if_missing(  # never re-created empty when Dagster lists loaded days of it: that would hide its loss
        warehouse,
        TableTarget(
            WAREHOUSE_SCHEMA,
            FACT_KEY.path[-1],
            FACT_COLUMNS,
            distkey=FACT_DISTKEY,
            sortkey=FACT_SORTKEY,
            known_partitions=loaded,
        ),
    )
    missing = missing_tables(warehouse, "analytics", DBT_FACTS)
    if missing:
        context.log.info(f"creating empty {', '.join(missing)} before the views (no partition loaded yet)")
        with dbt_warehouse_env(warehouse, EMPTY_WINDOW, telemetry_fact_loaded=bool(loaded)):
            dbt.cli(["run", "--select", " ".join(missing)], manifest=manifest_path).wait()


@dbt_assets(
    manifest=manifest_path,
    project=dbt_project,
    select=VIEWS_SELECT,
    dagster_dbt_translator=warehouse_translator,
    retry_policy=DBT_RETRY_POLICY,
    name="warehouse_views",
)
def warehouse_views(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """The analysts' views over the facts and dimensions (late-binding on Redshift), with their grain tests."""
    with (
        retries_logged(context, "preparing the views' input tables"),
        fail_fast_on_permanent_faults("preparing the views' input tables"),  # a lost fact table is not retried
    ):
        ensure_view_inputs(context, dbt, warehouse)
    with dbt_warehouse_env(warehouse, telemetry_fact_loaded=telemetry_fact_loaded(context)):
        # cautious: only tests whose every parent is in this step (the telemetry key relationship tests, which
        # also read dim_time / fact_procedures, run in plain `dbt build`, not as observations here)
        invocation = dbt.cli(["build", "--indirect-selection", "cautious"], context=context)
        # each view's materialization carries its row count, preview and headline figures
        yield from with_view_metadata(run_dbt(invocation), invocation.manifest, warehouse, context.log)
