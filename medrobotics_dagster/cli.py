"""The `medrobotics` command: synthetic source data (`generate`, `simulate-day`) and the whole platform (`demo`).

Each subcommand is an `add_<name>` function that registers its arguments and sets `run` to a function
taking the parsed arguments. Failures the user can fix print one line naming the setting at fault.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import NoReturn

import psycopg2

from medrobotics_dagster import settings
from medrobotics_dagster.error_text import first_line
from medrobotics_dagster.raw_telemetry_paths import RAW_TELEMETRY_PREFIX

EXIT_CONFIG = 2  # a setting or flag is wrong
EXIT_REFUSED = 3  # the command refused to run on this data (e.g. source not empty)
EXIT_FAILED = 4  # a Dagster run failed (details in the run's logs)


class CommandFailed(Exception):
    """The command ran and failed for a reason it has already described (e.g. a failed Dagster run)."""


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_CONFIG, f"{self.prog}: error: {message}\n")


def positive_float(text: str) -> float:
    """--scale: a positive, finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """--seed: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def iso_date(text: str) -> date:
    """--date: a calendar date YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, got {text!r}") from None


def add_generate(subparsers) -> None:
    """`medrobotics generate`: fill the source database and the lake with synthetic data."""
    parser = subparsers.add_parser("generate", help="create the operational schema and fill it with synthetic data")
    parser.add_argument("--scale", type=positive_float, default=1.0, help="size multiplier (1 = 5,000 procedures)")
    parser.add_argument("--seed", type=non_negative_int, default=42, help="random seed (same seed, same data)")
    parser.add_argument("--reset", action="store_true", help="drop existing operational tables and raw telemetry first")
    add_history_window(parser)
    parser.set_defaults(run=run_generate)


def add_history_window(parser) -> None:
    """--start/--end: the generated history (default: the two years ending yesterday, UTC)."""
    parser.add_argument(
        "--start",
        type=iso_date,
        default=None,
        help="first day of the generated history (default: the first daily partition, MEDROBOTICS_HISTORY_START)",
    )
    parser.add_argument(
        "--end", type=iso_date, default=None, help="last day of the generated history (default: yesterday, UTC)"
    )


def history_window(args: argparse.Namespace) -> tuple[date, date]:
    """The (start, end) days the flags ask for; a window that ends before it starts is a flag error."""
    from medrobotics_dagster.synthetic.world import default_history

    start, end = default_history(args.end)
    start = args.start or start
    if start > end:
        raise settings.ConfigError(
            "--start/--end", f"the history must start on or before its end, got {start} .. {end}"
        )
    return start, end


def run_generate(args: argparse.Namespace) -> None:
    from medrobotics_dagster.synthetic.generator import generate

    start, end = history_window(args)
    source_url, lake = _targets()
    summary = generate(source_url, lake, scale=args.scale, seed=args.seed, reset=args.reset, start=start, end=end)
    print(
        f"Generated {summary['surgical_procedures']:,} procedures ({summary['first_day']} .. {summary['last_day']}), "
        f"{summary['facilities']} facilities, {summary['surgical_robots']} robots, {summary['surgeons']} surgeons, "
        f"{summary['robot_maintenance_logs']} maintenance logs"
    )
    print(
        f"Telemetry: {summary['telemetry_samples']:,} samples in {summary['telemetry_files']:,} files "
        f"under {lake.uri(RAW_TELEMETRY_PREFIX.rstrip('/'))}/"
    )
    print(f"Source: {settings.redact(source_url)}")


def add_simulate_day(subparsers) -> None:
    """`medrobotics simulate-day`: move the synthetic world forward one day."""
    parser = subparsers.add_parser("simulate-day", help="add one day of procedures, telemetry and dimension changes")
    parser.add_argument(
        "--date", type=iso_date, default=None, help="day to simulate (default: the day after the latest)"
    )
    parser.add_argument("--seed", type=non_negative_int, default=42, help="random seed (same seed and day, same data)")
    parser.set_defaults(run=run_simulate_day)


def run_simulate_day(args: argparse.Namespace) -> None:
    from medrobotics_dagster.synthetic.simulate_day import simulate_day

    source_url, lake = _targets()
    summary = simulate_day(source_url, lake, day=args.date, seed=args.seed)
    print(
        f"Simulated {summary['day']}: {len(summary['procedures'])} procedures, "
        f"{summary['telemetry_samples']:,} telemetry samples in {summary['telemetry_files']} files"
    )
    for change in summary["changes"]:
        print(f"  {change['table']} {change['id']}: {change['column']} {change['old']} -> {change['new']}")


def add_demo(subparsers) -> None:
    """`medrobotics demo`: generate if empty, materialize every asset and partition, print row counts."""
    parser = subparsers.add_parser(
        "demo", help="generate data if the source is empty, build the warehouse, print counts"
    )
    parser.add_argument("--scale", type=positive_float, default=1.0, help="size of the world generated if empty")
    parser.add_argument("--seed", type=non_negative_int, default=42, help="random seed of the world generated if empty")
    add_history_window(parser)
    parser.add_argument(
        "--verbose", action="store_true", help="show every dbt and Dagster log line (default: one line per step)"
    )
    parser.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> None:
    from medrobotics_dagster.demo import MaterializationFailed
    from medrobotics_dagster.demo import run_demo as demo

    start, end = history_window(args)
    if start < settings.history_start():  # a world starting earlier could not be loaded from its first day
        raise settings.ConfigError(
            "--start",
            f"{start} is before the first daily partition {settings.history_start()} ({settings.HISTORY_START})",
        )
    try:
        demo(scale=args.scale, seed=args.seed, start=start, end=end, verbose=args.verbose)
    except MaterializationFailed as exc:
        raise CommandFailed(str(exc)) from exc


def add_bench(subparsers) -> None:
    """`medrobotics bench`: telemetry load throughput against a bare COPY baseline, in one line."""
    parser = subparsers.add_parser("bench", help="time the telemetry load against a bare COPY of the same rows")
    parser.add_argument(
        "--scale", type=positive_float, default=1.0, help="size of the world generated if the source is empty"
    )
    parser.add_argument("--seed", type=non_negative_int, default=42, help="random seed of the world generated if empty")
    parser.set_defaults(run=run_bench)


def run_bench(args: argparse.Namespace) -> None:
    from medrobotics_dagster.bench import run_bench as bench

    _check_all()
    # progress on the terminal's stderr, the result on stdout: the log file takes both descriptors while it runs
    with os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1) as terminal:
        line = bench(scale=args.scale, seed=args.seed, echo=lambda text: print(text, file=terminal))
    print(line)


def add_stop(subparsers) -> None:
    """`medrobotics stop`: stop the embedded PostgreSQL of local mode (it outlives the commands that start it)."""
    parser = subparsers.add_parser("stop", help="stop the embedded PostgreSQL under .medrobotics/")
    parser.set_defaults(run=run_stop)


def run_stop(args: argparse.Namespace) -> None:
    from medrobotics_dagster.resources.embedded_postgres import stop_embedded_server

    stopped = stop_embedded_server()
    print(f"embedded PostgreSQL under {settings.home()}: {'stopped' if stopped else 'not running'}")


def add_query(subparsers) -> None:
    """`medrobotics query`: run one of the fifteen sample queries (dbt analyses) against the warehouse."""
    from medrobotics_dagster.query import add_query_arguments

    parser = subparsers.add_parser(
        "query", help="run a sample query (dbt analysis) against the warehouse; --list names them"
    )
    add_query_arguments(parser)
    parser.set_defaults(run=run_query)


def run_query(args: argparse.Namespace) -> None:
    from medrobotics_dagster.query import QueryFailed, run_query_command

    try:
        print(run_query_command(args))
    except QueryFailed as exc:
        raise CommandFailed(str(exc)) from exc


SUBCOMMANDS: tuple[Callable, ...] = (add_generate, add_simulate_day, add_demo, add_bench, add_stop, add_query)


def build_parser() -> CliParser:
    """The full command-line parser."""
    parser = CliParser(
        prog="medrobotics", description="The medrobotics data platform: synthetic source data and a one-command demo."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `medrobotics` console script; returns (and exits with) the process status."""
    args = build_parser().parse_args(argv)
    settings.pin_home()
    status = run(args)
    if argv is None:
        sys.exit(status)
    return status


def run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand, turning expected failures into one line on stderr."""
    from medrobotics_dagster.synthetic.errors import SyntheticDataError

    try:
        args.run(args)
    except settings.ConfigError as exc:
        return _fail(f"{exc.setting}: {exc.problem}", EXIT_CONFIG)
    except SyntheticDataError as exc:
        return _fail(str(exc), EXIT_REFUSED)
    except psycopg2.Error as exc:
        return _fail(f"{settings.SOURCE_DB_URL}: the source database failed: {first_line(exc)}", EXIT_CONFIG)
    except CommandFailed as exc:
        return _fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    return 0


def _targets():
    """The source database URL and the lake of the environment's resource set, both checked (lake first) before
    anything is written."""
    from medrobotics_dagster.environments import command_resources
    from medrobotics_dagster.resources.preflight import preflight

    resources = command_resources()
    return preflight(lake=resources.lake, source=resources.source)["source"], resources.lake


def _check_all() -> None:
    """Environment, local state, lake, source and warehouse, in that order, before anything is written."""
    from medrobotics_dagster.environments import command_resources
    from medrobotics_dagster.resources.preflight import preflight

    resources = command_resources()
    preflight(lake=resources.lake, source=resources.source, warehouse=resources.warehouse)


def _fail(message: str, status: int) -> int:
    print(f"medrobotics: error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    main()
