"""`medrobotics demo`: self-contained local mode, quiet output with a full log, and incremental re-runs that
end identical to a full rebuild."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from medrobotics_dagster.demo import run_demo
from medrobotics_dagster.environments import command_resources
from medrobotics_dagster.materialize import DAILY_ASSET_KEYS, daily_asset_keys
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.embedded_postgres import stop_embedded_server
from medrobotics_dagster.staleness import partition_window
from medrobotics_dagster.synthetic.simulate_day import simulate_day

pytestmark = pytest.mark.long

# The shortest history the generator accepts at this scale (a smaller fleet has days with no procedure at all).
WINDOW = {"start": date(2023, 1, 1), "end": date(2023, 2, 10)}


@pytest.fixture
def embedded_home(medrobotics_home, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    yield medrobotics_home
    assert stop_embedded_server(), "the demo left no embedded server to stop"
    assert not (medrobotics_home / "pgdata" / "postmaster.pid").exists()


def table_rows(warehouse: Warehouse, table: str, skip: tuple[str, ...] = ()) -> list[tuple]:
    """Every row of `table` without its load-time columns, sorted."""
    schema, name = table.split(".")
    columns = [
        c
        for (c,) in warehouse.query(
            "SELECT column_name "
            "FROM information_schema.columns WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, name),
        )
        if not c.startswith("dbt_") and not c.endswith(("_at", "load_id")) and c not in skip
    ]
    rows = warehouse.query(f"SELECT {', '.join(f'{c}::text' for c in columns)} FROM {schema}.{name}")
    return sorted(rows, key=lambda row: tuple("" if v is None else v for v in row))


def test_demo_builds_quietly_under_its_home_then_loads_only_what_changed_and_equals_a_full_rebuild(
    embedded_home, tmp_path, make_database, monkeypatch
):
    """One world through the demo's life: the first demo from nothing, a second with nothing changed, a third
    after a new day and a corrected file, then a rebuild from nothing that must equal what the increments made."""
    lines: list[str] = []
    counts = dict(run_demo(scale=0.05, seed=5, echo=lines.append, **WINDOW))

    lake_dir = embedded_home / "lake"
    assert (embedded_home / "pgdata" / "PG_VERSION").exists()
    assert any((lake_dir / "raw" / "telemetry").rglob("*.json"))
    assert counts["analytics.dim_date"] == 3653
    assert counts["analytics.dim_time"] == 1440
    assert counts["analytics.fact_procedures"] == counts["staging.surgical_procedures"] > 0
    assert counts["analytics.dim_robots"] >= counts["staging.surgical_robots"] > 0
    files = sum(1 for _ in (lake_dir / "raw" / "telemetry").rglob("*.json"))
    assert counts["analytics.fact_procedure_telemetry"] > 0 and counts["analytics.telemetry_quarantine"] == 0
    telemetry_line = (
        f"telemetry: {counts['analytics.fact_procedure_telemetry']:,} rows loaded, 0 lines quarantined, "
        f"{files:,} raw files"
    )
    assert telemetry_line in [line.strip() for line in lines]

    # Readable: a screenful, no dbt progress, no warnings; the full log is a file under the home, named up front.
    text = "\n".join(lines)
    assert len(lines) < 45, text
    assert "Warning" not in text and "AssetObservation" not in text and " of 1" not in text
    log = Path(lines[0].removeprefix("full log: "))
    assert log.is_file() and log.is_relative_to(embedded_home / "logs")
    assert "RUN_SUCCESS" in log.read_text() and "Completed successfully" in log.read_text()
    # Dagster's storage, compute logs and the UI's marker live in the home's instance; nothing else in the cwd.
    assert (embedded_home / "dagster" / "dagster.yaml").exists() and (embedded_home / "dagster" / "storage").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".medrobotics"]
    assert any("DAGSTER_HOME=" + str(embedded_home / "dagster") in line for line in lines)

    # a second demo finds the data and everything materialized: no generation, no daily load
    again: list[str] = []
    assert dict(run_demo(echo=again.append))["analytics.fact_procedures"] == counts["analytics.fact_procedures"]
    assert not any("generating" in line for line in again)
    assert any("up to date" in line for line in again) and not any("loading 20" in line for line in again)
    assert any("nothing to rebuild" in line for line in again), "\n".join(again)

    # A new day with procedures (and dimension changes) and a corrected file for an old day.
    resources = command_resources()
    source_url, incremental = resources.source.resolved_url(), resources.warehouse
    for seed in range(30):  # a small fleet has quiet days; the first seed that books a case (deterministic)
        summary = simulate_day(source_url, resources.lake, seed=seed)
        if summary["procedures"]:
            break
    new_day = summary["day"]
    assert summary["procedures"], "no seed booked procedures on the new day"
    old_file = sorted((lake_dir / "raw" / "telemetry").rglob("*.json"), key=lambda p: (p.name, p.parent.name))[3]
    old_day = date(int(old_file.stem[:4]), int(old_file.stem[4:6]), int(old_file.stem[6:])).isoformat()
    lines_of_file = old_file.read_text().splitlines()
    old_file.write_text("\n".join(lines_of_file[:-1]) + "\n")  # the last sample withdrawn

    third: list[str] = []
    run_demo(echo=third.append)
    loads = [line for line in third if line.strip().startswith("loading 20")]
    next_day = (date.fromisoformat(new_day) + timedelta(days=1)).isoformat()
    assert [line.split(":")[0].strip() for line in loads] == [
        f"loading {old_day} .. {old_day} (1 day)",
        f"loading {new_day} .. {next_day} (2 days)",
    ], "\n".join(third)
    lines_of_day = sum(len(p.read_text().splitlines()) for p in (lake_dir / "raw" / "telemetry").rglob(old_file.name))
    assert (
        incremental.query(
            "SELECT count(*) FROM analytics.fact_procedure_telemetry "
            "WHERE sample_timestamp >= %s::date AND sample_timestamp < %s::date + 1",
            (old_day, old_day),
        )[0][0]
        == lines_of_day
    )

    # The same source and lake built from nothing into another warehouse, with a fresh Dagster instance (same
    # home: same pseudonym key).
    rebuilt_url = make_database("rebuilt")
    monkeypatch.setenv("MEDROBOTICS_WAREHOUSE_URL", rebuilt_url)
    monkeypatch.setenv("MEDROBOTICS_DAGSTER_STORAGE_URL", make_database("dagster_rebuilt"))
    rebuild: list[str] = []
    run_demo(echo=rebuild.append)
    assert any("to load" in line and "not materialized" in line for line in rebuild), "\n".join(rebuild)
    rebuilt = Warehouse(url=rebuilt_url)
    for table in (
        "staging.surgical_procedures",
        "staging.procedure_outcomes",
        "staging.facilities",
        "staging.surgeons",
        "staging.surgical_robots",
        "staging.robot_maintenance_logs",
        "analytics.fact_procedure_telemetry",
        "analytics.telemetry_quarantine",
        "analytics.fact_procedures_quarantine",
    ):
        assert table_rows(incremental, table) == table_rows(rebuilt, table), table
    # Facts: the same procedures and measures; the dimension keys of an SCD2 history may differ from a rebuild
    # that only ever saw the current dimension rows, so they are compared through the natural ids.
    keys = ("robot_key", "surgeon_key", "facility_key")
    assert table_rows(incremental, "analytics.fact_procedures", keys) == table_rows(
        rebuilt, "analytics.fact_procedures", keys
    )


def test_partition_window_runs_from_the_first_day_of_data_to_the_day_after_the_last():
    window = partition_window((date(2023, 3, 1), date(2023, 3, 10)))
    assert window[0] == "2023-03-01" and window[-1] == "2023-03-11" and len(window) == 11
    assert partition_window((date(2022, 6, 1), date(2023, 1, 2)))[0] == "2023-01-01"  # not before the partitions
    yesterday = date.today() - timedelta(days=1)
    assert partition_window((yesterday - timedelta(days=730), yesterday))[-1] == yesterday.isoformat()


def test_the_daily_asset_keys_known_without_the_definitions_are_the_definitions_daily_assets():
    from medrobotics_dagster.definitions import defs

    assert sorted(DAILY_ASSET_KEYS) == sorted(daily_asset_keys(defs))
