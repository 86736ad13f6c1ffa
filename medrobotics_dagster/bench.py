"""`medrobotics bench`: the telemetry load's throughput against a bare `COPY` of the same rows, in one invocation.

The load runs in a child process (so its peak memory is its own): one in-process Dagster run of the telemetry
assets over the whole range, recorded in the local Dagster instance like any run (its bookkeeping is part of the
cost). The baseline then COPYs the fact's own rows, as pre-flattened CSV, into an empty table of the same shape in
the same database, three times: its rate is their median.

Every run times a first load: the fact and the quarantine are emptied before the clock starts, so the first and the
tenth `bench` on a world measure the same thing (a reload also deletes the rows it replaces: at scale 10, 4.6
million rows, about 9 s more here).
"""

from __future__ import annotations

import io
import multiprocessing
import resource
import statistics
import time
from collections.abc import Callable
from datetime import date

from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.sql_identifiers import qualified

BASELINE_TABLE = "bench_copy_baseline"
BASELINE_REPEATS = 3


def _materialize_range(selection: list, first: str, last: str):
    """One in-process run of `selection` over the partitions first..last in the local instance, console quiet."""
    import dagster as dg

    from medrobotics_dagster.definitions import defs
    from medrobotics_dagster.local_instance import local_instance
    from medrobotics_dagster.materialize import materialize

    return materialize(defs, local_instance(), dg.AssetSelection.assets(*selection), (first, last), "ERROR")


def _load_in_child(first: str, last: str, queue) -> None:
    """The timed telemetry load, in a child process so that its peak memory is its own."""
    from medrobotics_dagster.defs.telemetry.assets import FACT_KEY, QUARANTINE_KEY, SAMPLES_KEY

    started = time.perf_counter()
    result = _materialize_range([SAMPLES_KEY, QUARANTINE_KEY, FACT_KEY], first, last)
    wall = time.perf_counter() - started
    steps = {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.is_step_success
    }
    queue.put((result.success, wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, steps))


def empty_telemetry_tables(warehouse: Warehouse) -> None:
    """Empty the fact and the quarantine (where they exist), so that the timed load is a first load."""
    from medrobotics_dagster.defs.telemetry.assets import FACT_KEY, QUARANTINE_KEY, WAREHOUSE_SCHEMA

    with warehouse.connection() as conn, conn.cursor() as cur:
        for key in (FACT_KEY, QUARANTINE_KEY):
            table = qualified(WAREHOUSE_SCHEMA, key.path[-1])
            cur.execute("SELECT to_regclass(%s)", (table,))
            if cur.fetchone()[0] is not None:
                cur.execute(f"TRUNCATE {table}")


def copy_baseline(warehouse: Warehouse, repeats: int = BASELINE_REPEATS) -> float:
    """Rows per second of a bare COPY FROM STDIN of the fact's rows as CSV into an empty table of the same shape
    (the median of `repeats` COPYs: one is a few seconds on a shared machine)."""
    with warehouse.connection() as conn, conn.cursor() as cur:
        buffer = io.BytesIO()
        cur.copy_expert("COPY analytics.fact_procedure_telemetry TO STDOUT WITH (FORMAT csv)", buffer)
        rows = cur.rowcount
    rates = []
    for _ in range(repeats):
        buffer.seek(0)
        with warehouse.connection() as conn, conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS analytics.{BASELINE_TABLE}")
            cur.execute(f"CREATE TABLE analytics.{BASELINE_TABLE} (LIKE analytics.fact_procedure_telemetry)")
        with warehouse.connection() as conn, conn.cursor() as cur:
            started = time.perf_counter()
            cur.copy_expert(f"COPY analytics.{BASELINE_TABLE} FROM STDIN WITH (FORMAT csv)", buffer, size=1 << 20)
            conn.commit()
            rates.append(rows / (time.perf_counter() - started))
            cur.execute(f"DROP TABLE analytics.{BASELINE_TABLE}")
    return statistics.median(rates)


def run_bench(
    scale: float,
    seed: int = 42,
    echo: Callable[[str], None] = print,
    start: date | None = None,
    end: date | None = None,
) -> str:
    """Generate (or reuse) a world (default: history start .. yesterday), time the telemetry load and the baseline,
    return the result line. `echo` gets one line per step; dbt's and Dagster's output go to a log file."""
    from medrobotics_dagster import settings
    from medrobotics_dagster.demo_console import Console
    from medrobotics_dagster.environments import command_resources

    resources = command_resources()
    if resources.warehouse.dialect != "postgres":
        raise SystemExit(
            "medrobotics bench measures against PostgreSQL's COPY; point MEDROBOTICS_WAREHOUSE_URL at PostgreSQL"
        )
    console = Console(echo, settings.command_log("bench"), False)
    console.say(f"full log: {console.log_path}")
    with console.captured():
        return _bench(console, resources, scale, seed, start, end)


def _bench(console, resources, scale: float, seed: int, start: date | None, end: date | None) -> str:
    from medrobotics_dagster.defs.staging.operational_extracts import staging_key
    from medrobotics_dagster.staleness import partition_range, procedure_days
    from medrobotics_dagster.synthetic.generator import generate
    from medrobotics_dagster.synthetic.world import default_history

    source, warehouse, lake = resources.source, resources.warehouse, resources.lake
    days = procedure_days(source)
    if days is None:
        default_start, default_end = default_history(end)
        start, end = start or default_start, end or default_end
        with console.step(f"source is empty: generating a world at scale {scale}"):
            generate(source.resolved_url(), lake, scale=scale, seed=seed, start=start, end=end)
        days = procedure_days(source)
    else:
        console.say("reusing the world already in the source (medrobotics generate --reset to change its scale)")
    first, last = partition_range(days)
    with console.step(f"extracting procedures {first} .. {last}"):
        if not _materialize_range([staging_key("surgical_procedures")], first, last).success:
            raise SystemExit(f"extracting the procedures failed; see {console.log_path} or the Dagster UI")
    empty_telemetry_tables(warehouse)
    with console.step("loading telemetry (one in-process run over the whole range, into an empty fact)"):
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        child = context.Process(target=_load_in_child, args=(first, last, queue))
        child.start()
        success, wall, peak_mb, steps = queue.get()
        child.join()
    # A range run records a materialization per partition and asset: the rest of the wall time is Dagster's.
    console.say("step seconds: " + ", ".join(f"{step}={seconds:.2f}" for step, seconds in steps.items()))
    if not success:
        raise SystemExit(f"the telemetry load failed; see {console.log_path} or run it in the Dagster UI")
    rows = warehouse.query("SELECT count(*) FROM analytics.fact_procedure_telemetry")[0][0]
    with console.step("timing the bare COPY baseline"):
        baseline = copy_baseline(warehouse)
    rate = rows / wall
    return (
        f"telemetry_load rows={rows} wall_s={wall:.2f} rows_per_s={rate:.0f} "
        f"copy_baseline_rows_per_s={baseline:.0f} ratio={rate / baseline:.2f} peak_rss_mb={peak_mb:.0f}"
    )
