"""`medrobotics demo`: data in the source if there is none, every asset and partition built, a summary printed."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import dagster as dg
import pandas as pd
import psycopg2.errors

from medrobotics_dagster.resources.databases import SourceDatabase, Warehouse
from medrobotics_dagster.resources.lake import Lake

WAREHOUSE_SCHEMAS = ("staging", "snapshots", "analytics")


# The full event log is in the Dagster UI; the terminal gets warnings and errors (and dbt's own progress).
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class MaterializationFailed(Exception):
    """A Dagster run of the demo failed; its logs say why."""


def procedure_days(source: SourceDatabase) -> tuple[date, date] | None:
    """The first and last UTC day with procedures, or None when the source holds none."""
    try:
        frame = source.read_frame(
            "SELECT min(start_time)::date AS first, max(start_time)::date AS last FROM surgical_procedures"
        )
    except psycopg2.errors.UndefinedTable:  # no operational schema yet: empty
        return None
    first, last = frame.iloc[0]["first"], frame.iloc[0]["last"]
    return None if pd.isna(first) else (first, last)


def dagster_instance() -> dg.DagsterInstance:
    """The instance `dagster dev` shows: DAGSTER_HOME, defaulting to this directory when it has a dagster.yaml."""
    if not os.environ.get("DAGSTER_HOME") and Path("dagster.yaml").exists():
        os.environ["DAGSTER_HOME"] = str(Path.cwd())
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def warehouse_row_counts(warehouse: Warehouse) -> list[tuple[str, int]]:
    from medrobotics_dagster.io_managers.warehouse_sql import qualified

    tables = warehouse.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN %s AND table_type = 'BASE TABLE' ORDER BY 1, 2",
        (WAREHOUSE_SCHEMAS,),
    )
    return [(f"{s}.{t}", warehouse.query(f"SELECT count(*) FROM {qualified(s, t)}")[0][0]) for s, t in tables]


def telemetry_summary(warehouse: Warehouse, lake: Lake) -> str:
    """One line: telemetry rows loaded, lines quarantined, raw files in the lake."""
    from medrobotics_dagster.defs.sources.raw_telemetry import RAW_TELEMETRY_PREFIX

    rows = warehouse.query("SELECT count(*) FROM analytics.fact_procedure_telemetry")[0][0]
    quarantined = warehouse.query("SELECT count(*) FROM analytics.telemetry_quarantine")[0][0]
    files = sum(1 for _ in lake.list(RAW_TELEMETRY_PREFIX))
    return f"telemetry: {rows:,} rows loaded, {quarantined:,} lines quarantined, {files:,} raw files"


def materialize_all(
    defs: dg.Definitions, instance: dg.DagsterInstance, days: tuple[date, date] | None, echo: Callable[[str], None] = print
) -> None:
    """The unpartitioned assets first, then every daily partition from `days[0]` to `days[1]` in one single run."""
    assets = list(defs.assets or [])
    resources = dict(defs.resources or {})
    daily_keys = [k for a in assets if isinstance(a, dg.AssetsDefinition) and a.partitions_def for k in a.keys]
    daily = dg.AssetSelection.assets(*daily_keys)
    whole = dg.AssetSelection.all().materializable() - daily
    runs = [("unpartitioned assets (staging dimensions, snapshots, dimensions)", whole, {})]
    if days is not None:
        from medrobotics_dagster.partitions import daily_partitions

        first = days[0].strftime("%Y-%m-%d")
        # A procedure that crosses midnight on the last day writes telemetry for the day after.
        last = min((days[1] + timedelta(days=1)).strftime("%Y-%m-%d"), daily_partitions.get_last_partition_key())
        tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
        runs.append((f"daily partitions {first} .. {last} in one run", daily, tags))
    for label, selection, tags in runs:
        echo(f"materializing {label} ...")
        result = dg.materialize(
            assets, selection=selection, resources=resources, instance=instance, tags=tags, raise_on_error=False,
            run_config=QUIET_CONSOLE,
        )
        if not result.success:
            failed = [e.step_key for e in result.all_events if e.is_step_failure]
            raise MaterializationFailed(f"materializing {label} failed in {failed}; see run {result.run_id} in the Dagster UI")


def run_demo(scale: float = 1.0, seed: int = 42, echo: Callable[[str], None] = print) -> list[tuple[str, int]]:
    """Generate if empty, materialize the unpartitioned assets then every daily partition in one run, report counts."""
    from medrobotics_dagster.synthetic.generator import generate

    source, warehouse, lake = SourceDatabase(), Warehouse(), Lake()
    warehouse.query("SELECT 1")  # a misconfigured warehouse or lake fails here, in one line, not inside a run
    next(iter(lake.list("raw/")), None)
    days = procedure_days(source)
    if days is None:
        echo(f"source is empty: generating synthetic data (scale {scale}, seed {seed}) ...")
        counts = generate(source.resolved_url(), lake, scale=scale, seed=seed)
        echo("  " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        days = procedure_days(source)

    from medrobotics_dagster.definitions import defs  # imported late: loading it prepares the dbt manifest

    materialize_all(defs, dagster_instance(), days, echo)
    counts = warehouse_row_counts(warehouse)
    width = max((len(name) for name, _ in counts), default=10)
    echo("\nwarehouse row counts:")
    for name, rows in counts:
        echo(f"  {name:<{width}}  {rows:>9,}")
    echo("\n" + telemetry_summary(warehouse, lake))
    echo(
        "\nopen the UI:  DAGSTER_HOME=$PWD .venv/bin/dagster dev -w workspace.yaml   (then http://127.0.0.1:3000)"
    )
    return counts
