"""`simulate_day`: the world moves forward one day, and the summary's changes are in the source."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.synthetic.errors import DayAlreadySimulated, SourceEmpty
from medrobotics_dagster.synthetic.generator import generate
from medrobotics_dagster.synthetic.simulate_day import simulate_day
from medrobotics_dagster_tests.synthetic.helpers import lake_files, query, table_rows


def next_day(url: str) -> date:
    """The day after the latest procedure start (UTC)."""
    return query(url, "SELECT max((start_time AT TIME ZONE 'UTC')::date) + 1 FROM surgical_procedures")[0][0]


KEY_COLUMNS = {"surgical_robots": "robot_id", "surgeons": "surgeon_id", "facilities": "facility_id"}


@pytest.fixture
def world(source_url, tmp_path):
    lake = Lake(url=str(tmp_path / "lake"))
    generate(source_url, lake, scale=0.1, seed=42)
    return source_url, lake


def test_adds_the_next_days_procedures_with_outcomes_and_telemetry(world):
    url, lake = world
    before = set(lake_files(lake.backend.root))
    day = next_day(url)
    summary = simulate_day(url, lake, seed=7)
    assert summary["day"] == day.isoformat()
    new = query(
        url,
        "SELECT p.procedure_id, (p.start_time AT TIME ZONE 'UTC')::date, o.outcome_id FROM surgical_procedures p"
        " JOIN procedure_outcomes o USING (procedure_id) WHERE p.procedure_id > 'PROC-000500' ORDER BY 1",
    )
    assert [row[0] for row in new] == summary["procedures"] == [f"PROC-{n:06d}" for n in range(501, 501 + len(new))]
    assert all(row[1] == day for row in new) and len(new) >= 1
    assert summary["outcomes"] == len(new)
    written = set(lake_files(lake.backend.root)) - before
    assert len(written) == summary["telemetry_files"]
    assert {key.split("/")[2] for key in written} == {f"procedure-{pid}" for pid in summary["procedures"]}
    days = {day.strftime("%Y%m%d"), (day + timedelta(days=1)).strftime("%Y%m%d")}
    assert {key.rsplit("/", 1)[1] for key in written} <= {f"{d}.json" for d in days}


def test_summary_changes_are_in_the_database(world):
    url, lake = world
    day = next_day(url)
    summary = simulate_day(url, lake, seed=7)
    changed = {(c["table"], c["column"]) for c in summary["changes"]}
    assert changed == {
        ("surgical_robots", "software_version"),
        ("surgical_robots", "last_maintenance_date"),
        ("surgeons", "certification_level"),
        ("facilities", "bed_count"),
    }
    for change in summary["changes"]:
        assert change["old"] != change["new"]
        table, key = change["table"], KEY_COLUMNS[change["table"]]
        sql = f"SELECT {change['column']}, updated_at FROM {table} WHERE {key} = %s"  # names from a fixed set
        value, updated = query(url, sql, (change["id"],))[0]
        assert (value.isoformat() if isinstance(value, date) else value) == change["new"]
        assert updated.date() == day and updated.isoformat() == change["updated_at"]
    robot = next(c for c in summary["changes"] if c["column"] == "software_version")
    log = query(
        url,
        "SELECT maintenance_id, robot_id, maintenance_type, maintenance_date, software_version_after"
        " FROM robot_maintenance_logs WHERE maintenance_id = %s",
        (summary["maintenance_logs"][0],),
    )
    assert log == [("MNT-00021", robot["id"], "software_upgrade", day, robot["new"])]


def test_consecutive_days_and_refusing_the_past(world):
    url, lake = world
    first = next_day(url)
    assert simulate_day(url, lake)["day"] == first.isoformat()
    later = first + timedelta(days=4)
    assert simulate_day(url, lake, day=later.isoformat())["day"] == later.isoformat()
    assert simulate_day(url, lake)["day"] == (later + timedelta(days=1)).isoformat()
    rows = table_rows(url)
    for day in (later + timedelta(days=1), first + timedelta(days=2), date(2024, 6, 1)):
        with pytest.raises(DayAlreadySimulated, match="only moves forward"):
            simulate_day(url, lake, day=day)
    assert table_rows(url) == rows


def test_deterministic_for_seed_and_day(make_database, tmp_path):
    urls = [make_database("source") for _ in range(3)]
    lakes = [Lake(url=str(tmp_path / name)) for name in ("a", "b", "c")]
    summaries = []
    for url, lake, seed in zip(urls, lakes, (1, 1, 2), strict=True):
        generate(url, lake, scale=0.05, seed=3)
        summaries.append(simulate_day(url, lake, seed=seed))
    assert summaries[0] == summaries[1] and table_rows(urls[0]) == table_rows(urls[1])
    assert lake_files(lakes[0].backend.root) == lake_files(lakes[1].backend.root)
    assert json.dumps(summaries[0]) != json.dumps(summaries[2])


def test_simulated_days_follow_the_booking_rules_of_the_history(source_url, tmp_path):
    lake = Lake(url=str(tmp_path / "lake"))
    generate(source_url, lake, scale=0.05, seed=42)
    for _ in range(8):
        simulate_day(source_url, lake, seed=5)
    overlaps = query(
        source_url,
        "SELECT a.procedure_id, b.procedure_id FROM surgical_procedures a JOIN surgical_procedures b"
        " ON a.procedure_id < b.procedure_id AND (a.robot_id = b.robot_id OR a.surgeon_id = b.surgeon_id)"
        " AND a.start_time < b.end_time AND b.start_time < a.end_time",
    )
    assert overlaps == []
    during_maintenance = query(
        source_url,
        "SELECT p.procedure_id FROM surgical_procedures p JOIN facilities f USING (facility_id)"
        " JOIN robot_maintenance_logs m ON m.robot_id = p.robot_id"
        " AND m.maintenance_date BETWEEN (p.start_time AT TIME ZONE f.time_zone)::date"
        " AND (p.end_time AT TIME ZONE f.time_zone)::date",
    )
    assert during_maintenance == []
    new = query(
        source_url,
        "SELECT extract(hour FROM p.start_time AT TIME ZONE f.time_zone), r.status FROM surgical_procedures p"
        " JOIN facilities f USING (facility_id) JOIN surgical_robots r USING (robot_id)"
        " WHERE p.procedure_id > 'PROC-000250'",
    )
    assert new and {status for _, status in new} == {"active"}
    assert sum(8 <= hour < 18 for hour, _ in new) >= 0.75 * len(new)


def test_refuses_an_empty_source(source_url, tmp_path):
    with pytest.raises(SourceEmpty, match="generate"):
        simulate_day(source_url, Lake(url=str(tmp_path / "lake")))
