"""Dagster's fixed cost of a range run of every daily asset, in seconds per 1,000 partitions.

    python -m medrobotics_dagster_tests.benchmarks.range_run_benchmark [--days 731] [--repeats 3] [--variants ...]

The source holds a small world (one month, January 2025); the range run covers the two years before it
(2023-01-01 .. 2024-12-31 by default), so every partition is empty and everything measured is fixed cost:
run start-up, one planned and one materialization event per partition, asset and check, dbt's invocation.
The data's own cost is what `medrobotics bench` measures. Each variant is an instance configuration:

    sqlite            Dagster's default local storage (one SQLite file per run for events)
    sqlite+subset     ... with DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS
    postgres          dagster-postgres storage on the same server as the warehouse
    postgres+batch    ... with DAGSTER_EVENT_BATCH_SIZE
    postgres+batch+subset   ... and the planned-event subset
    local             the platform's own local instance (dagster.yaml + instance_settings), what `demo` uses

Printed per variant: the median wall seconds of a 1-day run and of the range run, and the marginal cost per
1,000 partitions ((range - one day) / (days - 1) * 1000), medians of --repeats runs in this process; then the same
in CPU seconds of this process and its finished children, which a busy machine disturbs far less than wall time.
Neither the instance's PostgreSQL nor the dbt processes forked by the warm dbt server (`dbt_fork_server.py`) are
its children: the CPU figures count dbt only for an invocation that found no server (the first one).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
import uuid
import warnings
from datetime import date, timedelta
from pathlib import Path

from medrobotics_dagster_tests.conftest import SERVER_URL, _admin

WORLD_START, WORLD_END = date(2025, 1, 1), date(2025, 1, 31)
ALL_VARIANTS = ("sqlite", "sqlite+subset", "postgres", "postgres+batch", "postgres+batch+subset", "local")
LEVERS = ("DAGSTER_EVENT_BATCH_SIZE", "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS")


def _database(purpose: str, created: list[str]) -> str:
    name = f"mr_bench_{purpose}_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    created.append(name)
    return SERVER_URL.rsplit("/", 1)[0] + "/" + name


def _instance(variant: str, root: Path, created: list[str]):
    import dagster as dg

    for name in LEVERS:
        os.environ.pop(name, None)
    if "batch" in variant:
        os.environ["DAGSTER_EVENT_BATCH_SIZE"] = "1000"
    if "subset" in variant:
        os.environ["DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"] = "true"
    home = root / f"dagster-{variant}-{uuid.uuid4().hex[:6]}"
    home.mkdir()
    if variant == "local":
        from medrobotics_dagster.local_instance import local_instance

        return local_instance(home)
    if variant.startswith("postgres"):
        url = _database("instance", created).replace("postgresql://", "postgresql+psycopg2://")
        (home / "dagster.yaml").write_text(f"storage:\n  postgres:\n    postgres_url: {url}\n")
    return dg.DagsterInstance.from_config(str(home))


def _cpu_seconds() -> float:
    """CPU of this process and its finished children: less disturbed than wall time on a busy machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _run(defs, instance, selection, first: str, last: str) -> tuple[float, float]:
    import dagster as dg

    started, cpu_started = time.perf_counter(), _cpu_seconds()
    result = dg.materialize(
        list(defs.assets),
        selection=selection,
        resources=dict(defs.resources),
        instance=instance,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
    )
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    if not result.success:
        raise SystemExit(f"the range run {first} .. {last} failed (run {result.run_id})")
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=731)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", nargs="+", choices=ALL_VARIANTS, default=["local"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    created: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mr-range-bench-") as tmp:
        root = Path(tmp)
        os.environ.update(
            MEDROBOTICS_HOME=str(root / ".medrobotics"),
            MEDROBOTICS_SOURCE_DB_URL=_database("source", created),
            MEDROBOTICS_WAREHOUSE_URL=_database("warehouse", created),
            MEDROBOTICS_LAKE_URL=str(root / "lake"),
            MEDROBOTICS_HISTORY_START=(WORLD_START - timedelta(days=args.days)).isoformat(),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        )
        try:
            _measure(args, root, created)
        finally:
            for name in created:
                _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _measure(args, root: Path, created: list[str]) -> None:
    import dagster as dg

    from medrobotics_dagster.synthetic.generator import generate

    generate(scale=0.05, start=WORLD_START, end=WORLD_END)
    from medrobotics_dagster.definitions import defs
    from medrobotics_dagster.materialize import daily_selection, materialize, upstream_whole_selection

    first, last = os.environ["MEDROBOTICS_HISTORY_START"], (WORLD_START - timedelta(days=1)).isoformat()
    setup = dg.DagsterInstance.ephemeral()
    materialize(defs, setup, upstream_whole_selection(defs), log_level="ERROR")
    daily = daily_selection(defs)
    print(
        f"range run of every daily asset over {args.days} empty partitions ({first} .. {last}), "
        f"medians of {args.repeats}"
    )
    for variant in args.variants:
        one, whole = [], []
        for _ in range(args.repeats):
            instance = _instance(variant, root, created)
            one.append(_run(defs, instance, daily, last, last))
            whole.append(_run(defs, instance, daily, first, last))
        for i, unit in enumerate(("s", "cpu_s")):
            one_s, whole_s = statistics.median(r[i] for r in one), statistics.median(r[i] for r in whole)
            runs = ", ".join(f"{r[i]:.1f}" for r in whole)
            print(
                f"range_run variant={variant} one_day_{unit}={one_s:.2f} range_{unit}={whole_s:.2f} ({runs}) "
                f"fixed_{unit}_per_1000_partitions={(whole_s - one_s) / max(args.days - 1, 1) * 1000:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
