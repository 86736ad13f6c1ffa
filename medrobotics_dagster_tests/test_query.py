"""`medrobotics query`: every sample query compiles for both targets, runs on PostgreSQL, and prints its result."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import types
import uuid
from datetime import date, datetime, timedelta

import pytest

from medrobotics_dagster.cli import main
from medrobotics_dagster.query import sample_queries
from medrobotics_dagster_tests.dbt_state_age import BEFORE_EVERY_CHANGE, age_dbt_state
from medrobotics_dagster_tests.warehouse import dataset
from medrobotics_dagster_tests.warehouse.conftest import DbtProject
from medrobotics_dagster_tests.warehouse.staging_fixture import load_staging

NAMES = [q.name for q in sample_queries()]


def test_there_are_fifteen_sample_queries_with_descriptions(capsys):
    assert len(NAMES) == 15
    assert main(["query", "--list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == NAMES
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_an_unknown_name_lists_the_queries_without_a_traceback(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["query", "no_such_query"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unknown query 'no_such_query'" in err
    assert all(name in err for name in NAMES)


@pytest.fixture
def built_warehouse(warehouse_url, tmp_path, monkeypatch):
    project = DbtProject(warehouse_url, tmp_path, monkeypatch)
    load_staging(warehouse_url, **dataset.realistic_tables())
    project.build()
    monkeypatch.setenv("MEDROBOTICS_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("MEDROBOTICS_ENV", "local")
    return project


def test_every_query_runs_on_postgresql_in_every_format(built_warehouse, capsys):
    for name in NAMES:
        assert main(["query", name, "--format", "json"]) == 0, name
        rows = json.loads(capsys.readouterr().out)
        assert isinstance(rows, list), name
        # no telemetry in this warehouse; no surgeon with enough procedures to rank (see the history tests below)
        if name not in ("robot_system_health", "top_surgeons"):
            assert rows, name
    assert main(["query", "platform_dashboard"]) == 0
    table = capsys.readouterr().out.strip().splitlines()
    assert table[0].split()[:3] == ["total_procedures", "completed_procedures", "active_robots"]
    assert set(table[1]) <= {"-", " "} and table[2].split()[:3] == ["24", "24", "3"] and table[-1] == "(1 row)"
    assert main(["query", "volume_by_day_of_week", "--format", "csv"]) == 0
    csv_lines = capsys.readouterr().out.strip().splitlines()
    assert csv_lines[0].startswith("day_of_week,day_name,is_weekend,procedures")
    assert sum(int(line.split(",")[3]) for line in csv_lines[1:]) == 24


@pytest.mark.parametrize(
    "name",
    [
        "x'; DROP TABLE analytics.fact_procedures; --",
        'a"b',
        "semi;colon",
        "back\\slash",
        "nul\x00byte",
        "../../etc/passwd",
        "q" * 5000,
    ],
)
def test_hostile_query_names_are_refused_before_reaching_dbt_or_sql(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["query", name])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unknown query" in err


def test_a_query_compiles_and_runs_without_loading_dagster_or_dbt_and_recompiles_when_the_project_changes(
    built_warehouse, capsys
):
    from medrobotics_dagster.query import WarehouseTarget

    assert main(["query", "platform_dashboard", "--format", "csv"]) == 0  # compiles all queries once
    expected = capsys.readouterr().out
    compiled = WarehouseTarget.configured().compiled_dir() / "platform_dashboard.sql"
    stale = BEFORE_EVERY_CHANGE  # as after a change of the project
    os.utime(compiled, (stale, stale))
    probe = (
        "import sys; "
        "from medrobotics_dagster.cli import main; code = main(['query', 'platform_dashboard', '--format', 'csv']);"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'dbt', 'dagster_dbt', 'pandas'));"
        "print('LOADED', loaded); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ.copy(), timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(expected) and done.stdout.strip().endswith("LOADED []"), done.stdout
    assert compiled.stat().st_mtime > stale  # compiled again, by a dbt process of its own


def test_a_query_dbt_cannot_compile_fails_with_dbts_reason_in_one_line(built_warehouse, tmp_path, monkeypatch):
    from medrobotics_dagster import query

    project = tmp_path / "sql"  # a copy of the project with one analysis broken, as by an edit
    shutil.copytree(query.SQL_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "analyses" / "platform_dashboard.sql").write_text("select {{ no_such_macro() }}\n")
    monkeypatch.setattr(query, "SQL_DIR", project)
    with pytest.raises(query.QueryFailed) as failed:
        query.compile_queries(query.WarehouseTarget.configured(), tmp_path / "compiled")
    message = str(failed.value)
    assert message.startswith("dbt could not compile the queries: ") and "\n" not in message, message
    assert "platform_dashboard" in message and "no_such_macro" in message, message
    assert not (tmp_path / "compiled").exists()


def test_without_a_dbt_to_run_the_compile_fails_in_one_line(tmp_path, monkeypatch):
    from medrobotics_dagster import query
    from medrobotics_dagster.defs.warehouse import dbt_parse_state

    monkeypatch.setattr(dbt_parse_state, "dbt_executable", lambda: str(tmp_path / "no-dbt"))
    # a warehouse this process never parsed for: the parse state is made first, and cannot be
    target = query.WarehouseTarget(
        f"postgresql://postgres@127.0.0.1:5432/never_parsed_{uuid.uuid4().hex[:8]}", "postgres"
    )
    with pytest.raises(query.QueryFailed, match=r"^could not start dbt \(.*no-dbt\): No such file or directory$"):
        query.compile_queries(target, tmp_path / "compiled")


@pytest.fixture
def kept_compile_folder(tmp_path, monkeypatch):
    """The compile's scratch folder, kept after it (to read dbt's log and target in it); `made` names the prefixes
    of every temporary folder made meanwhile (a `dbt parse` of the project makes one named parse-)."""
    made, make = [], tempfile.TemporaryDirectory

    def kept(*args, prefix=None, **kwargs):
        made.append(prefix)
        if prefix != "medrobotics-query-":
            return make(*args, prefix=prefix, **kwargs)
        (tmp_path / "compile").mkdir()
        return contextlib.nullcontext(str(tmp_path / "compile"))

    monkeypatch.setattr(tempfile, "TemporaryDirectory", kept)
    return types.SimpleNamespace(folder=tmp_path / "compile", made=made)


def test_the_queries_compile_from_the_projects_parse_state(built_warehouse, kept_compile_folder, tmp_path):
    """The first query after a run parses nothing the runs' parse already holds."""
    from medrobotics_dagster import query
    from medrobotics_dagster.defs.warehouse.dbt_environment import dbt_connection_env
    from medrobotics_dagster.defs.warehouse.dbt_parse_state import ensure_partial_parse

    target = query.WarehouseTarget.configured()
    ensure_partial_parse(dbt_connection_env(target.url, target.dialect))  # as a run's dbt step does first
    query.compile_queries(target, tmp_path / "compiled")
    log = (kept_compile_folder.folder / "logs" / "dbt.log").read_text()
    assert "Partial parsing enabled: 0 files deleted, 0 files added, 0 files changed" in log
    assert (tmp_path / "compiled" / "platform_dashboard.sql").is_file()


def test_after_a_change_of_the_project_the_compile_is_the_parse_the_project_keeps(
    built_warehouse, kept_compile_folder, tmp_path
):
    """The first query after a change parses what changed within its own compile (no `dbt parse` before it), and
    the state that compile wrote becomes the project's, current for the runs after it."""
    from medrobotics_dagster import query
    from medrobotics_dagster.defs.warehouse.dbt_environment import dbt_connection_env
    from medrobotics_dagster.defs.warehouse.dbt_parse_state import (
        PARTIAL_PARSE_FILE,
        ensure_partial_parse,
    )
    from medrobotics_dagster.project_paths import DBT_TARGET_DIR

    project_state = DBT_TARGET_DIR / PARTIAL_PARSE_FILE
    age_dbt_state()
    target = query.WarehouseTarget.configured()
    query.compile_queries(target, tmp_path / "compiled")
    assert kept_compile_folder.made == ["medrobotics-query-"]  # no `dbt parse` of its own before the compile
    log = (kept_compile_folder.folder / "logs" / "dbt.log").read_text()
    assert "Partial parsing enabled" in log and "Unable to do partial parsing" not in log
    compiled_state = kept_compile_folder.folder / "target" / PARTIAL_PARSE_FILE
    assert (
        project_state.read_bytes() == compiled_state.read_bytes()
        and project_state.stat().st_mtime > BEFORE_EVERY_CHANGE
    )
    assert ensure_partial_parse(dbt_connection_env(target.url, target.dialect)) is False  # current: nothing to parse


# 2023-03-05 .. 2024-06-17, at 18:00 UTC (a daytime start, the same local day in every US zone): one procedure a
# day in 2023, two a day in 2024, so like for like 2024 doubles 2023 while the whole years differ by +13 %.
FIRST_DAY, LAST_DAY = date(2023, 3, 5), date(2024, 6, 17)


def history_tables() -> dict[str, list[dict]]:
    tables = dataset.dimension_tables()
    tables["surgeons"].append(dataset.surgeon("SUR-005"))
    procs, n, day = [], 1, FIRST_DAY
    while day <= LAST_DAY:
        for k in range(2 if day.year == 2024 else 1):
            start = datetime.combine(day, datetime.min.time()) + timedelta(hours=18 + 2 * k)
            procs.append(dataset.procedure(f"PROC-{n:06d}", start, f"ROB-{n % 3 + 1:03d}", f"SUR-{n % 4 + 1:03d}"))
            n += 1
        day += timedelta(days=1)
    for surgeon_case in range(3):  # a surgeon with three procedures, late in the evening: too few to rank
        start = datetime(2024, 2, 1 + surgeon_case, 3)  # 21:00 in Houston
        procs.append(dataset.procedure(f"PROC-{n:06d}", start, "ROB-001", "SUR-005"))
        n += 1
    outcomes = [dataset.outcome(p) for p in procs]
    for o in outcomes[:2]:  # a group of two, both readmitted: "100 %" from n = 2
        o.update(complication_level="Severe", readmission_30day=True)
    tables["surgical_procedures"], tables["procedure_outcomes"] = procs, outcomes
    return tables


@pytest.fixture(scope="module")
def history_warehouse(tmp_path_factory):
    """A warehouse built once for the module from history_tables()."""
    from medrobotics_dagster_tests.conftest import SERVER_URL, _admin

    name = f"mr_test_history_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    url = SERVER_URL.rsplit("/", 1)[0] + "/" + name
    try:
        with pytest.MonkeyPatch.context() as monkeypatch:
            project = DbtProject(url, tmp_path_factory.mktemp("dbt"), monkeypatch)
            load_staging(url, **history_tables())
            project.build()
        yield url
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_json(name: str, url: str, capsys, monkeypatch) -> list[dict]:
    monkeypatch.setenv("MEDROBOTICS_WAREHOUSE_URL", url)
    monkeypatch.setenv("MEDROBOTICS_ENV", "local")
    assert main(["query", name, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_year_over_year_growth_marks_partial_years_and_compares_the_same_days(history_warehouse, capsys, monkeypatch):
    rows = {r["year"]: r for r in run_json("year_over_year_growth", history_warehouse, capsys, monkeypatch)}
    assert [rows[2023]["full_year"], rows[2024]["full_year"]] == [False, False]
    assert (rows[2023]["procedures"], rows[2024]["procedures"]) == (
        302,
        341,
    )  # +13 % as whole years (with SUR-005's three)
    assert rows[2023]["compared_days"] is None and rows[2023]["procedure_growth_pct"] is None
    assert rows[2024]["compared_days"] == "03-05..06-17"
    assert (rows[2024]["procedures_on_compared_days"], rows[2024]["previous_year_on_compared_days"]) == (210, 105)
    assert rows[2024]["procedure_growth_pct"] == 100.0


def test_monthly_trends_mark_the_partial_first_and_last_months(history_warehouse, capsys, monkeypatch):
    rows = run_json("monthly_procedure_trends", history_warehouse, capsys, monkeypatch)
    partial = [(r["year"], r["month"]) for r in rows if not r["full_month"]]
    assert partial == [(2023, 3), (2024, 6)] and len(rows) == 16


def test_a_rate_needs_enough_procedures_and_comes_with_its_count(history_warehouse, capsys, monkeypatch):
    rows = run_json("readmission_analysis", history_warehouse, capsys, monkeypatch)
    severe = [r for r in rows if r["complication_level"] == "Severe"]
    assert [(r["procedures"], r["readmissions"], r["readmission_rate_pct"]) for r in severe] == [(1, 1, None)] * 2
    assert all(r["readmission_rate_pct"] is not None for r in rows if r["procedures"] >= 30)
    top = run_json("top_surgeons", history_warehouse, capsys, monkeypatch)
    assert {r["surgeon_id"] for r in top} == {"SUR-001", "SUR-002", "SUR-003", "SUR-004"}  # not SUR-005 (3 cases)
    assert all(r["total_procedures"] >= 30 and r["success_rate_pct"] is not None for r in top)
    hours = run_json("success_by_time_of_day", history_warehouse, capsys, monkeypatch)
    assert {r["procedures"] < 30 for r in hours} == {True, False}
    assert all((r["success_rate_pct"] is None) == (r["procedures"] < 30) for r in hours)
