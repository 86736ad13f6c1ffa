"""The platform end to end on real services: generated source -> staging -> snapshots/dims -> facts."""

from datetime import date, timedelta

import dagster as dg
import pytest

from medrobotics_dagster.materialize import materialize_everything
from medrobotics_dagster.resources.databases import SourceDatabase
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.staleness import partition_range, procedure_days
from medrobotics_dagster.synthetic.generator import generate
from medrobotics_dagster.synthetic.simulate_day import simulate_day
from medrobotics_dagster_tests.database import query

pytestmark = pytest.mark.long
# Two months: what the tests read needs days of every kind, not two years of partitions.
WORLD = (date(2024, 1, 1), date(2024, 2, 29))


@pytest.fixture(scope="module")
def platform(make_module_database, tmp_path_factory):
    """A small generated world, configured the way an operator would: through the environment. Built once for the
    module (a minute of the suite per build): the tests read it, and the last one adds a day to it."""
    source_url, warehouse_url = make_module_database("source"), make_module_database("warehouse")
    lake_dir = tmp_path_factory.mktemp("lake")
    patch = pytest.MonkeyPatch()
    patch.setenv("MEDROBOTICS_SOURCE_DB_URL", source_url)
    patch.setenv("MEDROBOTICS_WAREHOUSE_URL", warehouse_url)
    patch.setenv("MEDROBOTICS_LAKE_URL", str(lake_dir))
    generate(source_url, Lake(url=str(lake_dir)), scale=0.05, seed=11, start=WORLD[0], end=WORLD[1])
    from medrobotics_dagster.definitions import defs

    materialize_everything(defs, dg.DagsterInstance.ephemeral(), partition_range(procedure_days(SourceDatabase())))
    yield defs, source_url, warehouse_url, lake_dir
    patch.undo()


def test_fact_procedures_reconciles_exactly_with_the_source(platform):
    _, source_url, warehouse_url, _ = platform
    source = query(
        source_url,
        "SELECT count(*), sum(p.duration_minutes), sum(o.blood_loss_ml), sum(o.hospital_stay_days) "
        "FROM surgical_procedures p LEFT JOIN procedure_outcomes o USING (procedure_id)",
    )
    fact = query(
        warehouse_url,
        "SELECT count(*), sum(duration_minutes), sum(blood_loss_ml), sum(hospital_stay_days) "
        "FROM analytics.fact_procedures",
    )
    assert fact == source
    assert query(warehouse_url, "SELECT count(*) FROM analytics.fact_procedures_quarantine") == [(0,)]
    assert query(warehouse_url, "SELECT count(DISTINCT procedure_id) = count(*) FROM analytics.fact_procedures") == [
        (True,)
    ]


def test_every_fact_points_at_the_dimension_versions_of_its_own_members(platform):
    _, _, warehouse_url, _ = platform
    mismatches = query(
        warehouse_url,
        """
        SELECT count(*) FROM analytics.fact_procedures f
        JOIN staging.surgical_procedures p ON p.procedure_id = f.procedure_id
        JOIN analytics.dim_robots r ON r.robot_key = f.robot_key
        JOIN analytics.dim_surgeons s ON s.surgeon_key = f.surgeon_key
        JOIN analytics.dim_facilities fa ON fa.facility_key = f.facility_key
        WHERE r.robot_id <> p.robot_id OR s.surgeon_id <> p.surgeon_id OR fa.facility_id <> p.facility_id
        """,
    )
    assert mismatches == [(0,)]


def test_hours_weekdays_and_business_hours_are_read_on_the_facilitys_clock(platform):
    _, _, warehouse_url, _ = platform
    assert query(warehouse_url, "SELECT DISTINCT time_zone FROM analytics.dim_facilities") == [("America/New_York",)]
    business, night, weekend = query(
        warehouse_url,
        "SELECT avg(t.business_hours::int), avg((t.time_of_day = 'Night')::int), avg(d.is_weekend::int)"
        " FROM analytics.fact_procedures f JOIN analytics.dim_time t ON t.time_key = f.start_time_key"
        " JOIN analytics.dim_date d ON d.date_key = f.start_date_key",
    )[0]
    assert 0.8 <= business <= 0.97 and night < 0.05 and weekend < 0.15


# Last in the module: it changes the shared world.
def test_a_simulated_day_adds_versions_and_its_facts_join_the_new_ones(platform):
    defs, source_url, warehouse_url, lake_dir = platform
    versions_before = query(warehouse_url, "SELECT count(*) FROM analytics.dim_robots")[0][0]
    summary = simulate_day(source_url, Lake(url=str(lake_dir)), seed=11)
    day = date.fromisoformat(str(summary["day"]))
    materialize_everything(defs, dg.DagsterInstance.ephemeral(), partition_range((day, day)))

    assert query(warehouse_url, "SELECT count(*) FROM analytics.dim_robots")[0][0] > versions_before
    assert (
        query(
            warehouse_url,
            "SELECT count(*) FROM analytics.dim_robots GROUP BY robot_id HAVING sum(is_current::int) <> 1",
        )
        == []
    )
    source_count = query(source_url, "SELECT count(*) FROM surgical_procedures")[0][0]
    assert query(warehouse_url, "SELECT count(*) FROM analytics.fact_procedures")[0][0] == source_count
    # every procedure of the new day carries the robot version valid at its start, and the upgraded robot's
    # procedures after the upgrade carry the version that is current now
    misplaced = query(
        warehouse_url,
        f"""
        SELECT count(*) FROM analytics.fact_procedures f
        JOIN staging.surgical_procedures p ON p.procedure_id = f.procedure_id
        JOIN intermediate.int_robot_versions v ON v.robot_key = f.robot_key
        WHERE f.start_time >= '{day}' AND f.start_time < '{day + timedelta(days=1)}'
          AND NOT (p.start_time >= v.valid_from_ts AND p.start_time < v.valid_to_ts)
        """,
    )
    assert misplaced == [(0,)]
    upgrade = next(
        c for c in summary["changes"] if c["table"] == "surgical_robots" and c["column"] == "software_version"
    )
    after_upgrade = query(
        warehouse_url,
        f"""
        SELECT r.software_version, r.is_current FROM analytics.fact_procedures f
        JOIN staging.surgical_procedures p ON p.procedure_id = f.procedure_id
        JOIN analytics.dim_robots r ON r.robot_key = f.robot_key
        WHERE p.robot_id = '{upgrade["id"]}' AND p.start_time >= '{upgrade["updated_at"]}'
        """,
    )
    assert all(row == (upgrade["new"], True) for row in after_upgrade)
