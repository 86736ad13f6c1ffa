"""`medrobotics demo` in the self-contained local mode: embedded PostgreSQL, lake under .medrobotics/."""

import pytest

from medrobotics_dagster.demo import run_demo
from medrobotics_dagster.resources.embedded_postgres import stop_embedded_server


@pytest.fixture
def embedded_home(medrobotics_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no dagster.yaml here: the demo records its runs in an ephemeral instance
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    yield medrobotics_home
    assert stop_embedded_server(), "the demo left no embedded server to stop"
    assert not (medrobotics_home / "pgdata" / "postmaster.pid").exists()


def test_demo_generates_builds_everything_and_reports_counts(embedded_home):
    lines: list[str] = []
    counts = dict(run_demo(scale=0.02, seed=3, echo=lines.append))

    assert (embedded_home / "pgdata" / "PG_VERSION").exists()
    assert any((embedded_home / "lake" / "raw" / "telemetry").rglob("*.json"))
    assert counts["analytics.dim_date"] == 3653
    assert counts["analytics.dim_time"] == 1440
    assert counts["analytics.fact_procedures"] == counts["staging.surgical_procedures"] > 0
    assert counts["analytics.dim_robots"] >= counts["staging.surgical_robots"] > 0
    assert any("dagster dev" in line for line in lines)
    files = sum(1 for _ in (embedded_home / "lake" / "raw" / "telemetry").rglob("*.json"))
    assert counts["analytics.fact_procedure_telemetry"] > 0 and counts["analytics.telemetry_quarantine"] == 0
    assert f"telemetry: {counts['analytics.fact_procedure_telemetry']:,} rows loaded, 0 lines quarantined, {files:,} raw files" in [line.strip() for line in lines]

    # a second demo finds the data and does not generate again
    again: list[str] = []
    assert dict(run_demo(scale=0.02, seed=3, echo=again.append))["analytics.fact_procedures"] == counts["analytics.fact_procedures"]
    assert not any("generating" in line for line in again)
