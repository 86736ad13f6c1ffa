"""`medrobotics query`: the fifteen sample queries (dbt analyses under sql/analyses/) against the configured warehouse.

The queries are compiled by dbt for the warehouse's own target (postgres or redshift, so the cross-database
macros render for it) once per change of the dbt project or of the warehouse, all fifteen in one `dbt compile`
that starts from the project's parse state (the runs' own, so dbt parses only what changed), into
`sql/target/queries/`. A query then reads its compiled SQL and runs it over psycopg2: neither Dagster nor dbt
is loaded. Results print as an aligned table, CSV or JSON.
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
    """Every analysis compiled by dbt for the target (no connection needed), each written to folder/<name>.sql."""
    from dbt.cli.main import dbtRunner

    from medrobotics_dagster.defs.warehouse.dbt_environment import dbt_connection_env, dbt_process_env
    from medrobotics_dagster.defs.warehouse.dbt_project import put_dbt_on_path, start_from_project_parse

    put_dbt_on_path()
    connection = dbt_connection_env(target.url, target.dialect)
    with (
        tempfile.TemporaryDirectory(prefix="medrobotics-query-") as work,
        dbt_process_env(connection),
    ):
        # its own target and log paths: the project's target/manifest.json belongs to Dagster
        start_from_project_parse(connection, Path(work) / "target")
        # `dbt compile` prints the compiled SQL; only the result table belongs on stdout
        with contextlib.redirect_stdout(io.StringIO()):
            result = dbtRunner().invoke(
                [
                    "compile",
                    "--select",
                    "resource_type:analysis",
                    "--project-dir",
                    str(SQL_DIR),
                    "--profiles-dir",
                    str(SQL_DIR),
                    "--target-path",
                    str(Path(work) / "target"),
                    "--log-path",
                    str(Path(work) / "logs"),
                    "--no-introspect",
                    "--no-populate-cache",
                    "--quiet",
                    "--no-send-anonymous-usage-stats",
                ]
            )
    if not result.success:
        reason = first_line(result.exception) if result.exception else "see dbt output"
        raise QueryFailed(f"dbt could not compile the queries: {reason}")
    folder.mkdir(parents=True, exist_ok=True)
    for node_result in result.result.results if result.result is not None else []:
        node = node_result.node
        if node.compiled_code:
            partial = folder / f".{node.name}.sql.tmp"
            partial.write_text(node.compiled_code)
            os.replace(partial, folder / f"{node.name}.sql")


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
