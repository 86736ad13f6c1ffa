"""Benchmark of `generate`: wall seconds, rows/s and peak memory, median of several runs.

    python -m medrobotics_dagster_tests.benchmarks.generate_benchmark [--runs 3]

Each run fills a fresh database on the local PostgreSQL (127.0.0.1:5432) and a fresh directory lake.
The baseline is scale 0.1 measured in the same process: the ratio to scale 1 shows how close to linear it is.
"""

import argparse
import resource
import statistics
import tempfile
import time
import uuid

import psycopg2

from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.synthetic.generator import generate

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin(sql: str) -> None:
    conn = psycopg2.connect(SERVER)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def one_run(scale: float) -> tuple[float, dict]:
    name = f"mr_bench_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as lake_dir:
            started = time.perf_counter()
            summary = generate(SERVER.rsplit("/", 1)[0] + "/" + name, Lake(url=lake_dir), scale=scale, seed=42)
            return time.perf_counter() - started, summary
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for scale in (0.1, 1.0):
        times, summary = [], {}
        for _ in range(args.runs):
            seconds, summary = one_run(scale)
            times.append(seconds)
        median = statistics.median(times)
        rows = sum(
            summary[t]
            for t in (
                "facilities",
                "surgeons",
                "surgical_robots",
                "surgical_procedures",
                "procedure_outcomes",
                "robot_maintenance_logs",
            )
        )
        results[scale] = median
        print(
            f"scale {scale:>4}: median {median:6.2f} s over {args.runs} runs (all: "
            f"{', '.join(f'{t:.2f}' for t in times)}); "
            f"{rows / median:,.0f} source rows/s, {summary['telemetry_samples'] / median:,.0f} telemetry samples/s"
        )
    print(f"scale 1 / scale 0.1 wall-time ratio: {results[1.0] / results[0.1]:.1f} (10 = linear)")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
