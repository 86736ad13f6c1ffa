"""Fixtures of the warehouse (dbt) tests: run the real dbt project in-process against a fresh database."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import pytest

from medrobotics_dagster.defs.warehouse.dbt_environment import dbt_connection_env
from medrobotics_dagster.defs.warehouse.dbt_parse_state import PARTIAL_PARSE_FILE
from medrobotics_dagster_tests.warehouse.dbt_offline import compile_for_redshift

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


def dbt_env_for(warehouse_url: str) -> dict[str, str]:
    """The MEDROBOTICS_DBT_* variables sql/profiles.yml reads, exactly as the Dagster side sets them."""
    return {**dbt_connection_env(warehouse_url, "postgres"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


@dataclass
class DbtRun:
    success: bool
    results: list[Any]
    exception: BaseException | None
    log_text: str

    def status_of(self, name: str) -> str:
        return next(str(r.status) for r in self.results if r.node.name == name)


class DbtProject:
    """Runs sql/ with dbtRunner (in-process) against one database, with its own target and log paths."""

    def __init__(
        self, warehouse_url: str, work_dir: Path, monkeypatch: pytest.MonkeyPatch, parse_states: Path | None = None
    ):
        self.warehouse_url = warehouse_url
        self.target_path = work_dir / "target"
        self.log_path = work_dir / "logs"
        for key, value in dbt_env_for(warehouse_url).items():
            monkeypatch.setenv(key, value)
        # dbt's parse state of an earlier test on a database of the same name: dbt parses only what differs
        self.parse_state = parse_states / f"{urlsplit(warehouse_url).path.strip('/')}.msgpack" if parse_states else None
        if self.parse_state and self.parse_state.exists():
            self.target_path.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.parse_state, self.target_path / PARTIAL_PARSE_FILE)

    def invoke(self, *args: str, vars: dict[str, Any] | None = None, check: bool = True) -> DbtRun:
        from dbt.cli.main import dbtRunner

        log_file = self.log_path / "dbt.log"
        offset = log_file.stat().st_size if log_file.exists() else 0
        cli = [
            *args,
            "--project-dir",
            str(SQL_DIR),
            "--profiles-dir",
            str(SQL_DIR),
            "--target-path",
            str(self.target_path),
            "--log-path",
            str(self.log_path),
            "--log-level-file",
            "debug",
            "--quiet",
        ]
        if vars:
            cli += ["--vars", json.dumps(vars)]
        res = dbtRunner().invoke(cli)
        results = list(res.result.results) if res.result is not None and hasattr(res.result, "results") else []
        with open(log_file, encoding="utf-8", errors="replace") as fh:
            fh.seek(offset)
            log_text = fh.read()
        run = DbtRun(success=res.success, results=results, exception=res.exception, log_text=log_text)
        if self.parse_state and not vars and (self.target_path / PARTIAL_PARSE_FILE).exists():
            shutil.copy(self.target_path / PARTIAL_PARSE_FILE, self.parse_state)
        if check and not run.success:
            failed = [
                f"{r.node.name}: {r.status} {r.message}" for r in results if str(r.status) not in ("success", "pass")
            ]
            raise AssertionError(f"dbt {' '.join(args)} failed: {res.exception or failed}")
        return run

    def build(self, *select: str, vars: dict[str, Any] | None = None, check: bool = True) -> DbtRun:
        args = ["build"]
        if select:
            # only the tests whose every parent is selected (like Dagster's per-asset checks)
            args += ["--select", *select, "--indirect-selection", "cautious"]
        return self.invoke(*args, vars=vars, check=check)

    def query(self, statement: str, params: Any = None) -> list[tuple]:
        conn = psycopg2.connect(self.warehouse_url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def execute(self, statement: str, params: Any = None) -> None:
        self.query(statement, params)


@pytest.fixture(scope="session")
def dbt_parse_states(tmp_path_factory) -> Path:
    """dbt's partial-parse state per warehouse database name, kept across the tests of this process."""
    return tmp_path_factory.mktemp("dbt_parse_states")


@pytest.fixture
def dbt_project(warehouse_url, tmp_path, monkeypatch, dbt_parse_states) -> DbtProject:
    return DbtProject(warehouse_url, tmp_path, monkeypatch, dbt_parse_states)


@pytest.fixture(scope="module")
def redshift_manifest(tmp_path_factory) -> dict:
    return compile_for_redshift(SQL_DIR, tmp_path_factory.mktemp("redshift_compile"))
