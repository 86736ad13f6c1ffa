"""`medrobotics bench` on a tiny world: it loads every generated sample and ends with its one result line."""

import re
from datetime import date
from pathlib import Path

import pytest

from medrobotics_dagster.bench import empty_telemetry_tables, run_bench
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster_tests.database import execute, query

LINE = re.compile(
    r"^telemetry_load rows=(\d+) wall_s=[\d.]+ rows_per_s=\d+ copy_baseline_rows_per_s=\d+ ratio=[\d.]+ "
    r"peak_rss_mb=\d+$"
)


def test_bench_loads_every_sample_and_prints_one_line(
    source_url, warehouse_url, dagster_storage, tmp_path, monkeypatch
):
    monkeypatch.setenv("MEDROBOTICS_SOURCE_DB_URL", source_url)
    monkeypatch.setenv("MEDROBOTICS_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("MEDROBOTICS_LAKE_URL", str(tmp_path / "lake"))
    progress: list[str] = []
    line = run_bench(scale=0.01, seed=7, echo=progress.append, start=date(2023, 1, 1), end=date(2023, 3, 31))
    match = LINE.match(line)
    assert match, line
    # the terminal gets one line per step; dbt's and Dagster's output go to the log it names first
    log = Path(progress[0].removeprefix("full log: "))
    assert "Running with dbt" in log.read_text()
    assert not any("dbt" in text for text in progress[1:]), progress
    assert any(re.match(r"extracting procedures .*: done in [\d.]+ s$", text) for text in progress), progress
    lines = sum(path.read_bytes().count(b"\n") for path in (tmp_path / "lake" / "raw" / "telemetry").rglob("*.json"))
    assert int(match.group(1)) == lines  # every generated sample is in the fact
    assert (
        int(match.group(1)) == query(warehouse_url, "SELECT count(*) FROM analytics.fact_procedure_telemetry")[0][0] > 0
    )
    assert query(warehouse_url, "SELECT count(*) FROM analytics.telemetry_quarantine") == [(0,)]
    assert query(
        warehouse_url, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'bench_copy_baseline'"
    ) == [(0,)]


def test_bench_refuses_a_warehouse_that_is_not_postgresql(source_url, tmp_path, monkeypatch):
    """The environment's resource set decides the dialect: in prod that is Redshift, which has no COPY FROM STDIN."""
    monkeypatch.setenv("MEDROBOTICS_ENV", "prod")
    monkeypatch.setenv("MEDROBOTICS_SOURCE_DB_URL", source_url)
    monkeypatch.setenv("MEDROBOTICS_WAREHOUSE_URL", "redshift://analyst@warehouse.example.invalid:5439/dev")
    monkeypatch.setenv("MEDROBOTICS_LAKE_URL", str(tmp_path / "lake"))
    with pytest.raises(SystemExit, match="measures against PostgreSQL's COPY"):
        run_bench(scale=0.01, echo=lambda line: None)
    assert not (tmp_path / "lake").exists()  # refused before generating anything


def test_every_bench_times_a_first_load_into_an_empty_fact(warehouse_url):
    warehouse = Warehouse(url=warehouse_url)
    empty_telemetry_tables(warehouse)  # a new warehouse: nothing to empty, no error
    execute(warehouse_url, "CREATE SCHEMA analytics")
    execute(warehouse_url, "CREATE TABLE analytics.fact_procedure_telemetry AS SELECT 1 AS telemetry_key")
    execute(warehouse_url, "CREATE TABLE analytics.dim_robot AS SELECT 1 AS robot_key")
    empty_telemetry_tables(warehouse)
    assert query(warehouse_url, "SELECT count(*) FROM analytics.fact_procedure_telemetry") == [(0,)]
    assert query(warehouse_url, "SELECT count(*) FROM analytics.dim_robot") == [(1,)]  # nothing else is touched
