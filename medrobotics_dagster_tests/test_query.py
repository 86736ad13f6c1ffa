"""`medrobotics query`: every sample query compiles for both targets, runs on PostgreSQL, and prints its result."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from medrobotics_dagster.cli import main
from medrobotics_dagster.query import sample_queries
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
        if name != "robot_system_health":  # no telemetry in this warehouse
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
    ["x'; DROP TABLE analytics.fact_procedures; --", 'a"b', "semi;colon", "back\\slash", "nul\x00byte", "../../etc/passwd", "q" * 5000],
)
def test_hostile_query_names_are_refused_before_reaching_dbt_or_sql(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["query", name])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unknown query" in err


def test_a_compiled_query_runs_without_loading_dagster_or_dbt_and_recompiles_when_the_project_changes(built_warehouse, capsys):
    from medrobotics_dagster.query import WarehouseTarget

    assert main(["query", "platform_dashboard", "--format", "csv"]) == 0  # compiles all queries once
    expected = capsys.readouterr().out
    probe = (
        "import sys; from medrobotics_dagster.cli import main; code = main(['query', 'platform_dashboard', '--format', 'csv']);"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'dbt', 'dagster_dbt', 'pandas'));"
        "print('LOADED', loaded); sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ.copy(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(expected) and done.stdout.strip().endswith("LOADED []"), done.stdout

    compiled = WarehouseTarget.configured().compiled_dir() / "platform_dashboard.sql"
    stale = compiled.stat().st_mtime - 10
    os.utime(compiled, (stale, stale))  # older than the project's files: compiled again on the next query
    assert main(["query", "platform_dashboard", "--format", "csv"]) == 0
    assert capsys.readouterr().out == expected and compiled.stat().st_mtime > stale
