"""Telemetry assets: raw JSON files -> `lake/telemetry_samples` (Parquet) -> `warehouse/fact_procedure_telemetry`.

A run over any range lists the raw prefix once and streams day by day (memory: a few days). Rejected lines go
to `warehouse/telemetry_quarantine`; a blocking check fails the run when a day's share of rejected lines is
over the error budget, so the fact keeps its previous rows.
"""

import hashlib
from datetime import date, datetime, timedelta

import dagster as dg
import pyarrow as pa
from pydantic import Field

from medrobotics_dagster.column_schema import column_schema_metadata
from medrobotics_dagster.column_types import arrow_schema
from medrobotics_dagster.defs.sources.raw_telemetry import raw_telemetry_spec
from medrobotics_dagster.defs.staging.operational_extracts import STAGING_SCHEMA, staging_key
from medrobotics_dagster.defs.telemetry.day_stream import DayStream
from medrobotics_dagster.defs.telemetry.fact_rows import ProcedureInfo
from medrobotics_dagster.defs.telemetry.raw_files import (
    ARCHIVE_PREFIX,
    RawFile,
    classify,
    from_archive,
)
from medrobotics_dagster.defs.telemetry.schema import (
    FACT_COLUMNS,
    FACT_DISTKEY,
    FACT_SORTKEY,
    QUARANTINE_COLUMNS,
)
from medrobotics_dagster.faults import fail_fast_on_permanent_faults
from medrobotics_dagster.io_managers import (
    QUARANTINE_METADATA,
    PartitionedTables,
    StagedParquet,
    attempt_of,
    audit_failure,
    record_audit,
    retries_logged,
)
from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster.raw_telemetry_paths import RAW_TELEMETRY_PREFIX
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.sql_identifiers import qualified

SAMPLES_KEY = dg.AssetKey(["lake", "telemetry_samples"])
FACT_KEY = dg.AssetKey(["warehouse", "fact_procedure_telemetry"])
QUARANTINE_KEY = dg.AssetKey(["warehouse", "telemetry_quarantine"])
WAREHOUSE_SCHEMA = "analytics"
GROUP = "telemetry"
BUDGET_CHECK = "rejected_lines_within_budget"
UNKNOWN_FIELDS_CHECK = "no_unknown_fields"

TELEMETRY_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


class TelemetryLoadConfig(dg.Config):
    """How strict the telemetry load is."""

    error_budget: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="Largest share of a day's lines that may be rejected before the load fails.",
    )
    archive_processed_files: bool = Field(
        default=False,
        description=(
            "Move each day's raw files to archive/telemetry/dt=<day>/ once parsed (a rerun reads them from there)."
        ),
    )


def stable_procedure_key(procedure_id: str) -> int:
    """fact_procedures.procedure_key of a procedure: the first 60 bits of md5(id) (macro stable_bigint_key)."""
    return int(hashlib.md5(procedure_id.encode("utf-8")).hexdigest()[:15], 16)


def procedures_by_day(warehouse: Warehouse, start: datetime, end: datetime) -> dict[date, dict[str, ProcedureInfo]]:
    """Procedures extracted for [start - 1 day, end), by the UTC day they started."""
    staging_procedures = qualified(STAGING_SCHEMA, "surgical_procedures")
    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s "
            "AND ((table_name = 'surgical_procedures' AND column_name = 'procedure_id') "
            "OR (table_name = 'facilities' AND column_name = 'time_zone'))",
            (STAGING_SCHEMA,),
        )
        present = {row[0] for row in cur.fetchall()}
        if "surgical_procedures" not in present:
            return {}
        if "facilities" in present:
            cur.execute(
                f"SELECT p.procedure_id, COALESCE(f.time_zone, 'UTC'), p.start_time FROM {staging_procedures} p "
                f"LEFT JOIN {qualified(STAGING_SCHEMA, 'facilities')} f ON f.facility_id = p.facility_id "
                "WHERE p.start_time >= %(start)s AND p.start_time < %(end)s",
                {"start": start - timedelta(days=1), "end": end},
            )
        else:
            cur.execute(
                "SELECT procedure_id, 'UTC', start_time "
                f"FROM {staging_procedures} WHERE start_time >= %(start)s AND start_time < %(end)s",
                {"start": start - timedelta(days=1), "end": end},
            )
        rows = cur.fetchall()
    by_day: dict[date, dict[str, ProcedureInfo]] = {}
    for pid, zone, started in rows:
        by_day.setdefault(started.date(), {})[pid] = ProcedureInfo(stable_procedure_key(pid), zone)
    return by_day


def archived_files(lake: Lake) -> list[RawFile]:
    """Raw files already moved under archive/ (one listing), by their contract keys."""
    return [raw for raw in map(from_archive, lake.list(ARCHIVE_PREFIX)) if raw is not None]


def _files_by_day(lake: Lake, days: list[date], log) -> dict[date, list[RawFile]]:
    """The raw files of the run's days (one listing for the whole range), archived copies included."""
    with fail_fast_on_permanent_faults("listing raw telemetry"):
        files, malformed = classify(lake.list(RAW_TELEMETRY_PREFIX))
        archived = archived_files(lake)
    if malformed:
        log.warning(
            f"{len(malformed)} key(s) under {RAW_TELEMETRY_PREFIX} do not follow the contract, e.g. {malformed[0]!r}"
        )
    wanted = set(days)
    latest: dict[str, RawFile] = {raw.key: raw for raw in archived if raw.day in wanted}
    latest.update(
        {raw.key: raw for raw in files if raw.day in wanted}
    )  # a file in raw/ is newer than its archived copy
    files_by_day: dict[date, list[RawFile]] = {}
    for raw in latest.values():
        files_by_day.setdefault(raw.day, []).append(raw)
    return files_by_day


PREVIOUS_DAY_TOO = dg.TimeWindowPartitionMapping(start_offset=-1, allow_nonexistent_upstream_partitions=True)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SAMPLES_KEY,
            description=(
                "Each day's raw telemetry files parsed, flattened and validated: Parquet under "
                "staging/lake/telemetry_samples/dt=YYYY-MM-DD/."
            ),
            deps=[
                raw_telemetry_spec.key,
                dg.AssetDep(staging_key("surgical_procedures"), partition_mapping=PREVIOUS_DAY_TOO),
            ],
            group_name=GROUP,
            kinds={"parquet", "pyarrow"},
            metadata={"partition_expr": "sample_timestamp", **column_schema_metadata(FACT_COLUMNS)},
            partitions_def=daily_partitions,
        ).with_io_manager_key("lake_io_manager"),
        dg.AssetSpec(
            QUARANTINE_KEY,
            description="Every rejected telemetry line with its file key, line number, raw text, reason and load id.",
            deps=[raw_telemetry_spec.key],
            group_name=GROUP,
            kinds={"postgres"},
            metadata={
                "partition_expr": "partition_start",
                **column_schema_metadata(QUARANTINE_COLUMNS),
                "schema": WAREHOUSE_SCHEMA,
                QUARANTINE_METADATA: True,
            },
            partitions_def=daily_partitions,
        ).with_io_manager_key("warehouse_io_manager"),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            BUDGET_CHECK,
            asset=SAMPLES_KEY,
            blocking=True,
            description="Each day's share of rejected lines is within the error budget; blocks the fact load when not.",
        ),
        dg.AssetCheckSpec(
            UNKNOWN_FIELDS_CHECK,
            asset=SAMPLES_KEY,
            description=(
                "Warns when files carry fields the contract does not know (kept in extra_fields): "
                "candidates for new columns."
            ),
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=TELEMETRY_RETRY_POLICY,
    name="telemetry_samples",
)
def telemetry_samples(context: dg.AssetExecutionContext, config: TelemetryLoadConfig, lake: Lake, warehouse: Warehouse):
    window = context.partition_time_window
    days = [date.fromisoformat(key) for key in sorted(context.partition_keys)]
    try:
        files_by_day = _files_by_day(lake, days, context.log)
        with fail_fast_on_permanent_faults("reading the extracted procedures"):
            procedures = procedures_by_day(warehouse, window.start, window.end)
    except Exception as exc:
        audit_failure(context, warehouse, SAMPLES_KEY, window, exc)
        raise
    stream = DayStream(
        lake,
        days,
        config.error_budget,
        config.archive_processed_files,
        context.log,
        QUARANTINE_KEY.to_user_string(),
        on_error=lambda exc: audit_failure(context, warehouse, SAMPLES_KEY, window, exc),
    )
    yield dg.Output(
        PartitionedTables(
            stream.tables(files_by_day, procedures),
            FACT_COLUMNS,
            summary=stream.summary,
            partition_summary=stream.partition_summary,
        ),
        output_name=SAMPLES_KEY.to_python_identifier(),
    )
    run_id, attempt = context.run.run_id, attempt_of(context)[0]
    with retries_logged(context, f"audit rows of {SAMPLES_KEY.to_user_string()}"):
        record_audit(
            warehouse,
            stream.audit_records(SAMPLES_KEY.to_user_string(), run_id, attempt)
            + stream.blocked_records(FACT_KEY.to_user_string(), run_id, attempt, BUDGET_CHECK),
        )
    quarantine = pa.Table.from_pylist(stream.quarantine_rows, schema=arrow_schema(QUARANTINE_COLUMNS))
    yield dg.Output(quarantine, output_name=QUARANTINE_KEY.to_python_identifier(), metadata={"load_id": stream.load_id})
    yield dg.AssetCheckResult(
        check_name=BUDGET_CHECK,
        asset_key=SAMPLES_KEY,
        passed=not stream.over_budget,
        metadata={
            "error_budget": config.error_budget,
            "lines_read": stream.lines,
            "lines_quarantined": len(stream.quarantine_rows),
            "days_over_budget": dg.MetadataValue.json(stream.over_budget),
        },
        description=stream.over_budget_text() if stream.over_budget else None,
    )
    yield dg.AssetCheckResult(
        check_name=UNKNOWN_FIELDS_CHECK,
        asset_key=SAMPLES_KEY,
        passed=not stream.unknown_fields,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"unknown_fields": dg.MetadataValue.json(dict(stream.unknown_fields))},
    )


@dg.asset(
    key=FACT_KEY,
    description="One row per telemetry sample, loaded from the lake's Parquet without a second upload.",
    ins={"samples": dg.AssetIn(SAMPLES_KEY)},
    group_name=GROUP,
    kinds={"postgres", "redshift"},
    io_manager_key="warehouse_io_manager",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=TELEMETRY_RETRY_POLICY,
    metadata={
        "partition_expr": "sample_timestamp",
        **column_schema_metadata(FACT_COLUMNS),
        "schema": WAREHOUSE_SCHEMA,
        "redshift_distkey": FACT_DISTKEY,
        "redshift_sortkey": list(FACT_SORTKEY),
    },
)
def fact_procedure_telemetry(samples: StagedParquet) -> StagedParquet:
    return samples


telemetry_assets = [telemetry_samples, fact_procedure_telemetry]
