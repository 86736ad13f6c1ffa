"""`medrobotics demo`: data in the source if there is none, every asset and partition built, a summary printed.

A second `demo` loads only what is stale (`staleness.py`): daily partitions never materialized and days whose
source data changed. The unpartitioned assets (staging dimensions, snapshots, dimensions, views) are small and
rebuilt whenever anything is loaded. The terminal gets one line per step (`demo_console.py`); dbt's and
Dagster's full logs go to a file under the local state directory (`--verbose`: the terminal).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from datetime import date

from medrobotics_dagster import settings
from medrobotics_dagster.demo_console import Console
from medrobotics_dagster.materialize import (
    DAILY_ASSET_KEYS,
    MaterializationFailed,
    check_success,
    daily_selection,
    materialize,
    whole_selections,
)
from medrobotics_dagster.partitions import day_ranges
from medrobotics_dagster.raw_telemetry_paths import RAW_TELEMETRY_PREFIX
from medrobotics_dagster.resources.databases import SourceDatabase, Warehouse
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.staleness import SourceVersions, missing_days, partition_window, procedure_days

__all__ = ["MaterializationFailed", "run_demo"]
WAREHOUSE_SCHEMAS = ("staging", "snapshots", "analytics")
# More separate stale ranges than this become one run over their span (re-materializing is idempotent).
MAX_RANGES = 4


def warehouse_row_counts(warehouse: Warehouse) -> list[tuple[str, int]]:
    from medrobotics_dagster.sql_identifiers import qualified

    tables = warehouse.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN %s AND table_type = 'BASE TABLE' ORDER BY 1, 2",
        (WAREHOUSE_SCHEMAS,),
    )
    return [(f"{s}.{t}", warehouse.query(f"SELECT count(*) FROM {qualified(s, t)}")[0][0]) for s, t in tables]


def telemetry_summary(warehouse: Warehouse, lake: Lake) -> str:
    """One line: telemetry rows loaded, lines quarantined, raw files in the lake."""
    rows = warehouse.query("SELECT count(*) FROM analytics.fact_procedure_telemetry")[0][0]
    quarantined = warehouse.query("SELECT count(*) FROM analytics.telemetry_quarantine")[0][0]
    files = sum(1 for _ in lake.list(RAW_TELEMETRY_PREFIX))
    return f"telemetry: {rows:,} rows loaded, {quarantined:,} lines quarantined, {files:,} raw files"


def run_demo(
    scale: float = 1.0,
    seed: int = 42,
    echo: Callable[[str], None] | None = None,
    start: date | None = None,
    end: date | None = None,
    verbose: bool = False,
) -> list[tuple[str, int]]:
    """Check every setting, generate if empty, build what is stale (everything the first time), report counts.

    `echo` receives the terminal lines (default: the terminal); `start`/`end` bound a world generated here
    (default: from the first daily partition through yesterday)."""
    from medrobotics_dagster.environments import command_resources
    from medrobotics_dagster.resources.preflight import preflight

    resources = command_resources()
    source, warehouse, lake = resources.source, resources.warehouse, resources.lake
    preflight(lake=lake, source=source, warehouse=warehouse)  # one line naming the setting, before any write
    console = Console(echo, settings.command_log("demo"), verbose)
    console.say(f"full log: {console.log_path}" if not verbose else "verbose: every dbt and Dagster log line follows")
    total = time.monotonic()
    with console.captured():
        days = source_days(console, source, lake, scale, seed, start, end)
        build_what_is_stale(console, source, lake, days)
    print_summary(console, warehouse, lake, time.monotonic() - total)
    return warehouse_row_counts(warehouse)


def source_days(console: Console, source: SourceDatabase, lake: Lake, scale, seed, start, end) -> tuple[date, date]:
    """The first and last day of the source's procedures, generating a world first if the source is empty."""
    from medrobotics_dagster.synthetic.generator import generate
    from medrobotics_dagster.synthetic.world import default_history

    days = procedure_days(source)
    if days is not None:
        console.say(
            f"source: procedures {days[0]} .. {days[1]} (already generated; `medrobotics generate --reset` to replace)"
        )
        return days
    default_start, default_end = default_history(end)
    start, end = start or default_start, end or default_end
    prepare_dbt_meanwhile()
    with console.step(f"generating a synthetic world (scale {scale}, seed {seed}, {start} .. {end})"):
        counts = generate(source.resolved_url(), lake, scale=scale, seed=seed, start=start, end=end)
    console.say(
        f"  {counts['surgical_procedures']:,} procedures, {counts['telemetry_samples']:,} telemetry samples "
        f"in {counts['telemetry_files']:,} files"
    )
    return procedure_days(source)


def prepare_dbt_meanwhile() -> None:
    """Parse the dbt project for this warehouse, if it needs it, on the other core while the world is generated,
    instead of when the definitions load or in the first dbt step (5 to 7 s here)."""

    def prepare() -> None:
        from medrobotics_dagster.defs.warehouse.dbt_project import ensure_manifest

        with contextlib.suppress(Exception):  # a failing parse fails again, and is reported, when definitions load
            ensure_manifest()

    threading.Thread(target=prepare, name="dbt-parse", daemon=True).start()


def build_what_is_stale(console: Console, source: SourceDatabase, lake: Lake, days: tuple[date, date]) -> None:
    """Dimensions, stale daily ranges and views; nothing at all when no source changed since the last demo."""
    from medrobotics_dagster.local_instance import local_instance

    instance = local_instance()
    window = partition_window(days)
    with console.step("finding what changed"):
        now, before = SourceVersions.current(source, lake), SourceVersions.recorded(instance)
        missing = missing_days(instance, DAILY_ASSET_KEYS, window)
        changed = now.changed_days(before) & set(window)
        stale = missing | changed
        dimensions_changed = now.tables != before.tables
    say_what_is_stale(console, window, stale, missing, changed, days)
    if not stale and not dimensions_changed:
        console.say("dimensions and views: sources unchanged since the last demo, nothing to rebuild")
        return
    defs = load_definitions(console)
    first_whole, views = whole_selections(defs)
    level, hint = ("INFO" if console.verbose else "DEBUG"), _hint(console)
    with console.step("staging dimensions, snapshots, dimensions"):
        check_success(materialize(defs, instance, first_whole, log_level=level), "the dimensions", hint)
    now.record_tables(instance, before)
    daily = daily_selection(defs)
    for first, last in day_ranges(stale, max_ranges=MAX_RANGES):
        count = len([d for d in window if first <= d <= last])
        with console.step(
            f"  loading {first} .. {last} ({count:,} day{'s' if count > 1 else ''})", count * len(DAILY_ASSET_KEYS)
        ):
            check_success(materialize(defs, instance, daily, (first, last), level), f"loading {first} .. {last}", hint)
    if stale:
        now.record(instance, before, set(window))
    with console.step("views"):
        check_success(materialize(defs, instance, views, log_level=level), "the views", hint)


def say_what_is_stale(console: Console, window: list[str], stale: set, missing: set, changed: set, days) -> None:
    if not stale:
        console.say(f"daily partitions {window[0]} .. {window[-1]}: all {len(window):,} up to date")
    else:
        console.say(
            f"daily partitions {window[0]} .. {window[-1]}: {len(stale):,} of {len(window):,} to load "
            f"({len(missing):,} not materialized, {len(changed - missing):,} with changed sources)"
        )
    waiting = days[1].isoformat() > window[-1]
    if waiting:
        console.say(
            f"procedures of {window[-1]} .. {days[1]} wait: a day becomes a partition when it has ended (UTC), "
            "and the next demo or the daily schedule loads it"
        )


def load_definitions(console: Console):
    with console.step("loading definitions"):
        from medrobotics_dagster.definitions import defs
    return defs


def print_summary(console: Console, warehouse: Warehouse, lake: Lake, seconds: float) -> None:
    counts = warehouse_row_counts(warehouse)
    width = max((len(name) for name, _ in counts), default=10)
    console.say("\nwarehouse row counts:")
    for name, rows in counts:
        console.say(f"  {name:<{width}}  {rows:>9,}")
    console.say("\n" + telemetry_summary(warehouse, lake))
    console.say(f"\ndemo finished in {seconds:.1f} s")
    ui_home = os.environ.get("DAGSTER_HOME") or str(settings.dagster_home())
    console.say(
        f"open the UI:  DAGSTER_HOME={ui_home} .venv/bin/dagster dev -w workspace.yaml   (then http://127.0.0.1:3000)"
    )


def _hint(console: Console) -> str:
    return "" if console.verbose else f" and the log {console.log_path}"
