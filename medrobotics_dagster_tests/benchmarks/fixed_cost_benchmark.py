"""What a new user waits for, through the `medrobotics` command itself, in a fresh local state directory each time.

    python -m medrobotics_dagster_tests.benchmarks.fixed_cost_benchmark [--scale 1] [--repeats 3]

Per repeat, in a new MEDROBOTICS_HOME (embedded PostgreSQL, directory lake, local Dagster instance) with a dbt
target folder of its own (no manifest, no parse state, no compiled query: as in a fresh clone): the first
`medrobotics demo` (generation included), a second `demo` with nothing changed, the first `medrobotics query
platform_dashboard` (it compiles the fifteen queries), three more, and one after the project's parse state and
compiled queries were made older than every file of the dbt project (what a change of the project leaves, without
touching it). Then `import medrobotics_dagster.definitions` in a fresh interpreter, three times as it is and three
times after such a change. Printed: each figure's runs and median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from medrobotics_dagster_tests.dbt_state_age import age_dbt_state

BIN = Path(sys.executable).parent


def _timed(args: list[str], env: dict[str, str], show_steps: bool = False) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    if show_steps:  # the demo's own step lines: where its time went
        print(
            "\n".join(f"  {line.strip()}" for line in done.stdout.splitlines() if " in " in line and " s" in line),
            flush=True,
        )
    return seconds


def _one_home(scale: float, figures: dict[str, list[float]]) -> None:
    with tempfile.TemporaryDirectory(prefix="mr-fixed-cost-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDROBOTICS_", "DAGSTER_HOME"))}
        dbt_target = Path(tmp) / "dbt-target"
        env.update(
            MEDROBOTICS_HOME=str(Path(tmp) / ".medrobotics"),
            DBT_TARGET_PATH=str(dbt_target),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        )
        medrobotics = str(BIN / "medrobotics")
        query = [medrobotics, "query", "platform_dashboard"]
        try:
            figures["first_demo_s"].append(_timed([medrobotics, "demo", "--scale", str(scale)], env, show_steps=True))
            figures["second_demo_s"].append(_timed([medrobotics, "demo"], env, show_steps=True))
            figures["first_query_s"].append(_timed(query, env))
            for _ in range(3):
                figures["query_s"].append(_timed(query, env))
            age_dbt_state(dbt_target)
            figures["query_after_change_s"].append(_timed(query, env))
        finally:
            subprocess.run([medrobotics, "stop"], env=env, capture_output=True)


def _imports(figures: dict[str, list[float]]) -> None:
    """Loading the definitions in a fresh interpreter, with a dbt target folder of its own parsed once first: three
    times as it is, three times after a change of the project (its state dated before it)."""
    with tempfile.TemporaryDirectory(prefix="mr-fixed-cost-") as tmp:
        env = {**os.environ, "DBT_TARGET_PATH": tmp, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        load = [sys.executable, "-W", "ignore", "-c", "import medrobotics_dagster.definitions"]
        _timed(load, env)  # the first parse of this target
        for _ in range(3):
            figures["import_definitions_s"].append(_timed(load, env))
        for _ in range(3):
            age_dbt_state(Path(tmp))
            figures["import_after_change_s"].append(_timed(load, env))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    figures: dict[str, list[float]] = {
        "first_demo_s": [],
        "second_demo_s": [],
        "first_query_s": [],
        "query_s": [],
        "query_after_change_s": [],
        "import_definitions_s": [],
        "import_after_change_s": [],
    }
    for _ in range(args.repeats):
        _one_home(args.scale, figures)
    _imports(figures)
    for name, runs in figures.items():
        shown = ", ".join(f"{s:.1f}" for s in runs)
        print(f"fixed_cost {name}={statistics.median(runs):.2f} (runs: {shown}) scale={args.scale}", flush=True)


if __name__ == "__main__":
    main()
