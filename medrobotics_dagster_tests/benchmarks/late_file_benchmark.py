"""Seconds from a late raw telemetry file's arrival to its rows in the fact, under `dagster dev` (sensor + daemon).

    python -m medrobotics_dagster_tests.benchmarks.late_file_benchmark [--files 3]

A small world (January and February 2023) is loaded in full except for --files raw files held back; `dagster dev`
then runs on a free port with the platform's own instance configuration (PostgreSQL storage) and the sensor on. Each
held-back file is put back in turn (a late file for an old day), and the fact is polled until its rows are there.
Printed: each file's seconds and the median. The sensor ticks every 30 s, so a file waits 15 s on average for its tick.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
import warnings
from datetime import date
from pathlib import Path

import psycopg2

from medrobotics_dagster_tests.conftest import SERVER_URL, _admin
from medrobotics_dagster_tests.dagster_dev import DagsterDev

WORLD = (date(2023, 1, 1), date(2023, 2, 28))
TIMEOUT_S = 600


def _count(url: str, day: str) -> int:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM analytics.fact_procedure_telemetry WHERE sample_timestamp >= %s::date "
                "AND sample_timestamp < %s::date + 1",
                (day, day),
            )
            return cur.fetchone()[0]
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    names = [f"mr_bench_{p}_{uuid.uuid4().hex[:8]}" for p in ("source", "warehouse", "dagster")]
    for name in names:
        _admin(f'CREATE DATABASE "{name}"')
    source, warehouse, storage = (SERVER_URL.rsplit("/", 1)[0] + "/" + n for n in names)
    try:
        with tempfile.TemporaryDirectory(prefix="mr-late-file-") as tmp:
            _measure(Path(tmp), source, warehouse, storage, args.files)
    finally:
        for name in names:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _measure(root: Path, source: str, warehouse: str, storage: str, files: int) -> None:
    lake = root / "lake"
    os.environ.update(
        MEDROBOTICS_HOME=str(root / ".medrobotics"),
        MEDROBOTICS_SOURCE_DB_URL=source,
        MEDROBOTICS_WAREHOUSE_URL=warehouse,
        MEDROBOTICS_DAGSTER_STORAGE_URL=storage,
        MEDROBOTICS_LAKE_URL=str(lake),
        MEDROBOTICS_HISTORY_START=WORLD[0].isoformat(),
        DAGSTER_HOME=str(root / "dagster"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DAGSTER_DISABLE_TELEMETRY="true",
    )
    from medrobotics_dagster.local_instance import local_instance, prepare_home
    from medrobotics_dagster.synthetic.generator import generate

    generate(scale=0.01, seed=5, start=WORLD[0], end=WORLD[1])
    raw = sorted((lake / "raw" / "telemetry").rglob("*.json"))
    held = raw[:: max(1, len(raw) // files)][:files]
    parked = root / "parked"
    for path in held:
        target = parked / path.relative_to(lake)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
    prepare_home(root / "dagster")
    from medrobotics_dagster.definitions import defs
    from medrobotics_dagster.materialize import materialize_everything
    from medrobotics_dagster.resources.databases import SourceDatabase
    from medrobotics_dagster.staleness import partition_range, procedure_days

    materialize_everything(defs, local_instance(), partition_range(procedure_days(SourceDatabase())))
    server = DagsterDev(dict(os.environ), root / "dagster_dev.log")
    try:
        from dagster_graphql import DagsterGraphQLClient

        server.wait_until_serving(DagsterGraphQLClient("127.0.0.1", port_number=server.port, timeout=60))
        time.sleep(35)  # the sensor's first tick: it records the files already there
        seconds = [_one_file(parked, lake, path, warehouse, server) for path in held]
    finally:
        server.stop()
    shown = ", ".join(f"{s:.1f}" for s in seconds)
    print(
        f"late_file files={len(seconds)} seconds_to_fact_median={statistics.median(seconds):.1f} ({shown})", flush=True
    )


def _one_file(parked: Path, lake: Path, path: Path, warehouse: str, server: DagsterDev) -> float:
    day = f"{path.stem[:4]}-{path.stem[4:6]}-{path.stem[6:8]}"
    expected = _count(warehouse, day)
    lines = sum(1 for _ in (parked / path.relative_to(lake)).open())
    started = time.monotonic()
    shutil.move(parked / path.relative_to(lake), path)
    os.utime(path)
    while _count(warehouse, day) < expected + lines:
        if time.monotonic() - started > TIMEOUT_S:
            raise TimeoutError(f"{path.name}: not in the fact after {TIMEOUT_S} s:\n{server.log_tail()}")
        time.sleep(0.5)
    took = time.monotonic() - started
    print(f"  {path.relative_to(lake)}: {lines} lines in the fact after {took:.1f} s", flush=True)
    return took


if __name__ == "__main__":
    main()
