"""`medrobotics query`: the fifteen sample queries (dbt analyses under sql/analyses/) against the configured warehouse.

The queries are compiled by dbt for the warehouse's own target (postgres or redshift, so the cross-database
macros render for it) once per change of the dbt project or of the warehouse, all fifteen in one `dbt compile`
into `sql/target/queries/`. That compile is a dbt process of its own (`medrobotics-dbt`, forked from the warm dbt
the runs use when one is up) starting from the project's parse state, so dbt parses only what changed. A query
then reads its compiled SQL and runs it over psycopg2: this process never loads Dagster or dbt. Results print as an
aligned table, CSV or JSON.
The name chooses one of the known analysis files (validated against sql/analyses/analyses.yml) and reaches dbt
only as a node selector; no value from the user is ever put into SQL text.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import decimal
import io
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from medrobotics_dagster import settings
from medrobotics_dagster.error_text import first_line
from medrobotics_dagster.project_paths import DBT_TARGET_DIR, SQL_DIR, dbt_project_changed_since
from medrobotics_dagster.resources.postgres_connection import Dialect, connection_params, transaction

ANALYSES_DIR = SQL_DIR / "analyses"
COMPILED_DIR = DBT_TARGET_DIR / "queries"
ANALYSES_YAML = ANALYSES_DIR / "analyses.yml"
FORMATS = ("table", "csv", "json")


class QueryFailed(Exception):
    """The query could not be compiled or run; the message says why in one line."""


@dataclass(frozen=True)
class SampleQuery:
    name: str
    description: str


def sample_queries() -> list[SampleQuery]:
    """The sample queries in their documented order, each with its one-line description."""
    entries = yaml.safe_load(ANALYSES_YAML.read_text())["analyses"]
    queries = [SampleQuery(e["name"], " ".join(str(e.get("description", "")).split())) for e in entries]
    return [q for q in queries if (ANALYSES_DIR / f"{q.name}.sql").is_file()]


def query_name(text: str) -> str:
    """argparse type of NAME: one of the known queries, else a one-line error that lists them all."""
    names = [q.name for q in sample_queries()]
    if text not in names:
        raise argparse.ArgumentTypeError(
            f"unknown query {text!r}; known queries: {', '.join(names)} (`medrobotics query --list` describes them)"
        )
    return text


def add_query_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", type=query_name, help="the sample query to run (see --list)")
    parser.add_argument("--list", action="store_true", help="name the sample queries with a one-line description")
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="output: aligned table (default), csv or json"
    )


def list_text() -> str:
    queries = sample_queries()
    width = max(len(q.name) for q in queries)
    return "\n".join(f"{q.name:<{width}}  {q.description}" for q in queries)


@dataclass(frozen=True)
class WarehouseTarget:
    """Where the queries run: the warehouse URL and its dialect (what dbt compiles for)."""

    url: str
    dialect: Dialect

    @classmethod
    def configured(cls) -> WarehouseTarget:
        """The environment's warehouse, read from the settings its resource set reads (that set loads Dagster)."""
        from medrobotics_dagster.resources.embedded_postgres import resolve_database_url

        return cls(
            resolve_database_url(settings.WAREHOUSE_URL, settings.WAREHOUSE_DB_NAME), settings.warehouse_dialect()
        )

    def compiled_dir(self) -> Path:
        """One folder per target and database: compiled SQL names the database it was compiled for."""
        params = connection_params(self.url, self.dialect)
        return COMPILED_DIR / f"{params.dialect}-{params.host}-{params.port}-{params.dbname}".replace("/", "_")


def compiled_query(name: str, target: WarehouseTarget) -> str:
    """The query's SQL compiled for `target`: from the cache, compiling all queries first when it is stale."""
    folder = target.compiled_dir()
    path = folder / f"{name}.sql"
    if not path.is_file() or dbt_project_changed_since(path.stat().st_mtime):
        compile_queries(target, folder)
    if not path.is_file():
        raise QueryFailed(f"dbt compiled nothing for {name}")
    return path.read_text()


def compile_queries(target: WarehouseTarget, folder: Path) -> None:
    """Every analysis compiled by dbt for the target, each written to folder/<name>.sql. dbt runs as the runs' dbt
    steps do (`medrobotics-dbt`: forked from a warm dbt when one is up), not in this process."""
    from medrobotics_dagster.defs.warehouse.dbt_environment import dbt_connection_env
    from medrobotics_dagster.defs.warehouse.dbt_parse_state import (
        dbt_command,
        parsing_for_the_project,
        put_dbt_on_path,
    )

    put_dbt_on_path()
    connection = dbt_connection_env(target.url, target.dialect)
    with tempfile.TemporaryDirectory(prefix="medrobotics-query-") as work:
        # its own target and log paths: the project's target/manifest.json belongs to Dagster
        target_path = Path(work) / "target"
        command = [
            *dbt_command("compile", target_path, SQL_DIR),
            "--select",
            "resource_type:analysis",
            "--log-path",
            str(Path(work) / "logs"),
            "--no-introspect",
            "--no-populate-cache",
            "--quiet",  # `dbt compile` prints the compiled SQL; only the result table belongs on stdout
            "--log-format",
            "json",  # its error, if any, read from the output
            "--no-send-anonymous-usage-stats",
        ]
        with parsing_for_the_project(connection, target_path):
            try:
                compiled = subprocess.run(command, env={**os.environ, **connection}, capture_output=True, text=True)
            except OSError as exc:  # no dbt to run: an install without the project's dependencies
                raise QueryFailed(f"could not start dbt ({command[0]}): {exc.strerror or exc}") from exc
            if compiled.returncode != 0:
                reason = _dbt_error(compiled.stdout + compiled.stderr)
                raise QueryFailed(f"dbt could not compile the queries: {reason}")
        folder.mkdir(parents=True, exist_ok=True)
        for path in (target_path / "compiled").glob(f"*/{ANALYSES_DIR.name}/**/*.sql"):
            partial = folder / f".{path.name}.tmp"
            shutil.copyfile(path, partial)
            os.replace(partial, folder / path.name)


def _dbt_error(output: str) -> str:
    """dbt's error (from its JSON log lines) in one line; else the output's last line."""
    errors, lines = [], [line for line in output.splitlines() if line.strip()]
    for line in lines:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            info = json.loads(line)["info"]
            if info["level"] == "error":
                errors.append(info["msg"].removeprefix("Encountered an error:"))
    return " ".join(" ".join(errors).split()) or (lines[-1].strip() if lines else "dbt printed nothing")


def run_query(name: str, target: WarehouseTarget) -> tuple[list[str], list[tuple]]:
    """Run one sample query; its column names and rows."""
    import psycopg2

    statement = compiled_query(name, target)
    try:
        with transaction(target.url, settings.WAREHOUSE_URL, dialect=target.dialect) as conn, conn.cursor() as cur:
            cur.execute(statement)
            columns = [c.name for c in cur.description]
            return columns, cur.fetchall()
    except psycopg2.Error as exc:
        raise QueryFailed(f"{settings.WAREHOUSE_URL}: query {name} failed: {first_line(exc)}") from exc


def _plain(value: Any) -> Any:
    """A JSON-friendly value: numbers stay numbers, dates become ISO text."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else "NaN"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_plain(value))


def format_rows(columns: Sequence[str], rows: Sequence[tuple], fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps([{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows], indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(v) for v in row] for row in rows])
        return buffer.getvalue().rstrip("\n")
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = (
        [
            all(v is None or (isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool)) for v in column)
            for column in zip(*rows, strict=True)
        ]
        if rows
        else [False] * len(columns)
    )
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(list(columns)), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return "\n".join(out)


def run_query_command(args: argparse.Namespace, target: WarehouseTarget | None = None) -> str:
    """What `medrobotics query` prints: the list, or the formatted result of one query."""
    if args.list or not args.name:
        return list_text()
    columns, rows = run_query(args.name, target or WarehouseTarget.configured())
    return format_rows(columns, rows, args.format)
