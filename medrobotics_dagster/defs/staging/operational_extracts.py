"""Extracts of the operational tables into warehouse `staging` tables, through the warehouse IO manager."""

from dataclasses import dataclass

import dagster as dg

from medrobotics_dagster.defs.sources.operational_tables import OPERATIONAL_TABLES, source_table_key
from medrobotics_dagster.faults import fail_fast_on_permanent_faults
from medrobotics_dagster.io_managers import audit_failure
from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster.resources.databases import SourceDatabase, Warehouse
from medrobotics_dagster.resources.pseudonymizer import Pseudonymizer
from medrobotics_dagster.sql_identifiers import qualified, quote_ident

STAGING_SCHEMA = "staging"

EXTRACT_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


@dataclass(frozen=True)
class Extract:
    table: str
    key_column: str
    query: str
    partition_expr: str | None = None  # the UTC time column a daily partition is cut on
    reads: tuple[str, ...] = ()  # source tables besides `table` that the query joins
    pseudonymized: tuple[str, ...] = ()  # patient identifiers: replaced by keyed hashes before they are stored


EXTRACTS = [
    # Dimension sources are small and extracted whole: a row deleted at the source must disappear here.
    Extract("facilities", "facility_id", "SELECT * FROM facilities ORDER BY facility_id"),
    Extract("surgeons", "surgeon_id", "SELECT * FROM surgeons ORDER BY surgeon_id"),
    Extract("surgical_robots", "robot_id", "SELECT * FROM surgical_robots ORDER BY robot_id"),
    Extract("robot_maintenance_logs", "maintenance_id", "SELECT * FROM robot_maintenance_logs ORDER BY maintenance_id"),
    # Procedures and outcomes follow the procedure's UTC start day.
    Extract(
        "surgical_procedures",
        "procedure_id",
        "SELECT * "
        "FROM surgical_procedures WHERE start_time >= %(start)s AND start_time < %(end)s ORDER BY procedure_id",
        partition_expr="start_time",
        pseudonymized=("patient_id",),
    ),
    Extract(
        "procedure_outcomes",
        "outcome_id",
        "SELECT o.*, p.start_time AS procedure_start_time FROM procedure_outcomes o "
        "JOIN surgical_procedures p ON p.procedure_id = o.procedure_id "
        "WHERE p.start_time >= %(start)s AND p.start_time < %(end)s ORDER BY o.outcome_id",
        partition_expr="procedure_start_time",
        reads=("surgical_procedures",),
    ),
]


def staging_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", table])


def build_extract_asset(extract: Extract) -> dg.AssetsDefinition:
    partitioned = extract.partition_expr is not None

    @dg.asset(
        key=staging_key(extract.table),
        description=(
            f"{OPERATIONAL_TABLES[extract.table]} Extracted "
            f"{'by UTC day of ' + extract.partition_expr if partitioned else 'whole'} into staging.{extract.table}."
        ),
        deps=[source_table_key(t) for t in (extract.table, *extract.reads)],
        group_name="staging",
        kinds={"postgres", "pandas"},
        io_manager_key="warehouse_io_manager",
        partitions_def=daily_partitions if partitioned else None,
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
        metadata={"partition_expr": extract.partition_expr} if partitioned else None,
        retry_policy=EXTRACT_RETRY_POLICY,
    )
    def _extract(
        context: dg.AssetExecutionContext, source_db: SourceDatabase, pseudonymizer: Pseudonymizer, warehouse: Warehouse
    ):  # a pandas DataFrame (no annotation: Dagster would resolve it, and load pandas, with the definitions)
        import pandas as pd

        params = None
        window = context.partition_time_window if partitioned else None
        if window is not None:
            params = {"start": window.start, "end": window.end}
        # Permanent faults (bad credentials, missing table) fail at once; transient ones go to the RetryPolicy.
        try:
            with fail_fast_on_permanent_faults(f"extract of source table {extract.table}"):
                frame = source_db.read_frame(extract.query, params)
        except Exception as exc:
            audit_failure(context, warehouse, staging_key(extract.table), window, exc)
            raise
        for column in extract.pseudonymized:
            frame[column] = pd.array(pseudonymizer.pseudonyms(frame[column]), dtype=object)
        context.log.info(f"extracted {len(frame)} row(s) from {extract.table}")
        return frame

    return _extract


def build_unique_key_check(extract: Extract) -> dg.AssetChecksDefinition:
    """Blocking: a duplicate key would make snapshots pile up versions and facts double count (dbt-core#11747)."""

    @dg.asset_check(
        asset=staging_key(extract.table),
        name=f"{extract.key_column}_is_unique",
        description=f"Each {extract.key_column} appears once in staging.{extract.table}; blocks downstream when not.",
        blocking=True,
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        key = quote_ident(extract.key_column)
        rows = warehouse.query(
            f"SELECT {key}, COUNT(*) FROM {qualified(STAGING_SCHEMA, extract.table)} "
            f"GROUP BY {key} HAVING COUNT(*) > 1 ORDER BY 2 DESC, 1 LIMIT 5"
        )
        return dg.AssetCheckResult(
            passed=not rows,
            metadata={"duplicate_keys": [f"{k} x{n}" for k, n in rows]},
        )

    return _check


extract_assets = [build_extract_asset(e) for e in EXTRACTS]
unique_key_checks = [build_unique_key_check(e) for e in EXTRACTS]
