"""SCD2 dimensions built from dbt snapshots: versions, deletes, point-in-time facts, stable keys."""

from datetime import UTC, date, datetime

from . import dataset
from .staging_fixture import load_staging

# snapshots and the SCD2 models, without the facts
DIMS = (
    "snap_facilities",
    "snap_surgeons",
    "snap_robots",
    "int_facility_versions",
    "int_surgeon_versions",
    "int_robot_versions",
    "dim_facilities",
    "dim_surgeons",
    "dim_robots",
)
FAR_FUTURE = datetime(9999, 12, 31)


def _dim(dbt_project, table: str, order: str) -> list[tuple]:
    return dbt_project.query(f"select * from analytics.{table} order by {order}")


def _versions(dbt_project, model: str, natural_id: str, key: str) -> list[tuple]:
    return dbt_project.query(
        f"select {natural_id}, {key}, valid_from_ts, valid_to_ts, is_current from intermediate.{model} order by {key}"
    )


def test_unchanged_source_creates_no_new_version(dbt_project):
    load_staging(dbt_project.warehouse_url, **dataset.realistic_tables())
    dbt_project.build()
    before = {t: _dim(dbt_project, t, "1") for t in ("dim_facilities", "dim_surgeons", "dim_robots")}
    snapshot_rows = dbt_project.query(
        "select (select count(*) from snapshots.snap_robots), (select count(*) from snapshots.snap_surgeons)"
    )

    # same data again, and an untracked change (usage counter + updated_at) on a robot
    tables = dataset.realistic_tables()
    tables["surgical_robots"][0].update(total_procedures_count=101, updated_at=datetime(2024, 3, 2, 18, 0))
    load_staging(dbt_project.warehouse_url, **tables)
    dbt_project.build()
    dbt_project.build()

    assert (
        dbt_project.query(
            "select (select count(*) from snapshots.snap_robots), (select count(*) from snapshots.snap_surgeons)"
        )
        == snapshot_rows
    )
    assert _dim(dbt_project, "dim_facilities", "1") == before["dim_facilities"]
    assert _dim(dbt_project, "dim_surgeons", "1") == before["dim_surgeons"]
    robots = dbt_project.query(
        "select robot_id, robot_key, is_current, total_procedures_count from analytics.dim_robots order by robot_key"
    )
    # the counter is type-1: new value on the (single, unchanged) version
    assert robots == [("ROB-001", 1, True, 101), ("ROB-002", 2, True, 200), ("ROB-003", 3, True, 300)]
    # every member's first version is valid from the start of history
    assert dbt_project.query("select distinct effective_date, expiration_date from analytics.dim_surgeons") == [
        (date(2020, 1, 1), None)
    ]


def test_software_upgrade_expires_one_version_and_opens_one(dbt_project):
    tables = dataset.realistic_tables()
    load_staging(dbt_project.warehouse_url, **tables)
    dbt_project.build(*DIMS)

    # the facility of ROB-001 (FAC-002) changes on 03-05, then ROB-001 is upgraded on 03-10
    facilities = [dict(f) for f in tables["facilities"]]
    facilities[1].update(bed_count=999, updated_at=datetime(2024, 3, 5, 6, 0))
    robots = [dict(r) for r in tables["surgical_robots"]]
    robots[0].update(software_version="4.3.0", updated_at=datetime(2024, 3, 10, 12, 0))
    load_staging(dbt_project.warehouse_url, facilities=facilities, surgical_robots=robots)
    dbt_project.build(*DIMS)

    rob1 = dbt_project.query(
        "select robot_key, software_version, facility_key, effective_date, expiration_date, is_current"
        " from analytics.dim_robots where robot_id = 'ROB-001' order by effective_date"
    )
    fac2 = dict(
        dbt_project.query("select is_current, facility_key from analytics.dim_facilities where facility_id = 'FAC-002'")
    )
    assert rob1 == [
        (1, "4.2.0", fac2[False], date(2020, 1, 1), date(2024, 3, 10), False),
        (4, "4.3.0", fac2[True], date(2024, 3, 10), None, True),
    ]
    assert _versions(dbt_project, "int_robot_versions", "robot_id", "robot_key")[0] == (
        "ROB-001",
        1,
        datetime(2020, 1, 1),
        datetime(2024, 3, 10, 12, 0),
        False,
    )
    assert _versions(dbt_project, "int_robot_versions", "robot_id", "robot_key")[-1] == (
        "ROB-001",
        4,
        datetime(2024, 3, 10, 12, 0),
        FAR_FUTURE,
        True,
    )
    # the other robots keep their single version
    assert dbt_project.query("select robot_id, count(*) from analytics.dim_robots group by robot_id order by 1") == [
        ("ROB-001", 2),
        ("ROB-002", 1),
        ("ROB-003", 1),
    ]
    # snapshot: dbt_valid_from of the new version is the source change time (check strategy + updated_at)
    assert dbt_project.query(
        "select dbt_valid_from, dbt_valid_to "
        "from snapshots.snap_robots where robot_id = 'ROB-001' order by dbt_valid_from"
    ) == [(datetime(2024, 1, 1, 8, 0), datetime(2024, 3, 10, 12, 0)), (datetime(2024, 3, 10, 12, 0), FAR_FUTURE)]


def test_deleted_surgeon_is_closed_not_lost(dbt_project):
    tables = dataset.realistic_tables()
    load_staging(dbt_project.warehouse_url, **tables)
    dbt_project.build(*DIMS)

    load_staging(dbt_project.warehouse_url, surgeons=[s for s in tables["surgeons"] if s["surgeon_id"] != "SUR-004"])
    dbt_project.build(*DIMS)  # includes the SCD2 data tests: a deleted member has no current version, legitimately

    today = datetime.now(UTC).date()
    assert dbt_project.query(
        "select surgeon_key, effective_date, expiration_date, is_current "
        "from analytics.dim_surgeons where surgeon_id = 'SUR-004'"
    ) == [(4, date(2020, 1, 1), today, False)]
    assert dbt_project.query("select count(*) from analytics.dim_surgeons where is_current") == [(3,)]
    # re-running does not touch the closed version again
    dbt_project.build(*DIMS)
    assert dbt_project.query(
        "select count(*), bool_or(is_current) from analytics.dim_surgeons where surgeon_id = 'SUR-004'"
    ) == [(1, False)]


def test_late_arriving_procedures_join_the_version_valid_at_start(dbt_project):
    tables = dataset.realistic_tables()
    load_staging(dbt_project.warehouse_url, **tables)
    dbt_project.build()
    robots = [dict(r) for r in tables["surgical_robots"]]
    robots[0].update(software_version="4.3.0", updated_at=datetime(2024, 3, 10, 12, 0))
    load_staging(dbt_project.warehouse_url, surgical_robots=robots)
    dbt_project.build(*DIMS)

    # procedures arriving after the upgrade, dated before and after it (and long before the robot was first seen)
    late = [
        dataset.procedure("PROC-000100", datetime(2024, 3, 10, 11, 59), "ROB-001", "SUR-001"),
        dataset.procedure("PROC-000101", datetime(2024, 3, 10, 12, 0), "ROB-001", "SUR-001"),
        dataset.procedure("PROC-000102", datetime(2022, 6, 1, 9, 30), "ROB-001", "SUR-002"),
    ]
    load_staging(
        dbt_project.warehouse_url,
        surgical_procedures=tables["surgical_procedures"] + late,
        procedure_outcomes=tables["procedure_outcomes"] + [dataset.outcome(p) for p in late],
    )
    dbt_project.build(
        "fact_procedures", "fact_procedures_quarantine", vars={"min_date": "2024-03-10", "max_date": "2024-03-11"}
    )
    dbt_project.build(
        "fact_procedures", "fact_procedures_quarantine", vars={"min_date": "2022-06-01", "max_date": "2022-06-02"}
    )

    keys = dict(
        dbt_project.query(
            "select f.procedure_id, r.software_version from analytics.fact_procedures f"
            " join analytics.dim_robots r using (robot_key) "
            "where f.procedure_id in ('PROC-000100', 'PROC-000101', 'PROC-000102')"
        )
    )
    assert keys == {"PROC-000100": "4.2.0", "PROC-000101": "4.3.0", "PROC-000102": "4.2.0"}
    # facts loaded before the change keep their (then valid) version key
    assert dbt_project.query(
        "select distinct r.software_version "
        "from analytics.fact_procedures f join analytics.dim_robots r using (robot_key)"
        " where f.start_date_key < 20240310"
    ) == [("4.2.0",)]
    assert dbt_project.query("select count(*) from analytics.fact_procedures_quarantine") == [(0,)]


def test_surrogate_keys_are_stable_across_runs(dbt_project):
    tables = dataset.realistic_tables()
    load_staging(dbt_project.warehouse_url, **tables)
    dbt_project.build(*DIMS)
    models = [
        ("int_facility_versions", "facility_id", "facility_key"),
        ("int_surgeon_versions", "surgeon_id", "surgeon_key"),
        ("int_robot_versions", "robot_id", "robot_key"),
    ]
    before = {m: _versions(dbt_project, m, nid, key) for m, nid, key in models}

    # changes that insert new versions, including a new member whose updated_at is older than every existing version
    facilities = tables["facilities"] + [
        dataset.facility("FAC-000", created_at=datetime(2021, 5, 1), updated_at=datetime(2021, 5, 1))
    ]
    surgeons = [dict(s) for s in tables["surgeons"]]
    surgeons[2].update(certification_level="Expert", updated_at=datetime(2024, 2, 1))
    robots = [dict(r) for r in tables["surgical_robots"]]
    robots[2].update(status="maintenance", updated_at=datetime(2024, 2, 20))
    load_staging(dbt_project.warehouse_url, facilities=facilities, surgeons=surgeons, surgical_robots=robots)
    dbt_project.build(*DIMS)
    dbt_project.build(*DIMS)

    for model, nid, key in models:
        after = _versions(dbt_project, model, nid, key)
        old_keys = {row[1]: (row[0], row[2]) for row in before[model]}
        new_keys = {row[1]: (row[0], row[2]) for row in after}
        # every existing version keeps its key (and its start); new versions get higher keys
        assert {k: new_keys[k] for k in old_keys} == old_keys, model
        assert min(set(new_keys) - set(old_keys)) > max(old_keys), model
    assert dbt_project.query(
        "select facility_key, effective_date from analytics.dim_facilities where facility_id = 'FAC-000'"
    ) == [(4, date(2020, 1, 1))]
    # dims expose the same keys as the versions the facts join
    assert dbt_project.query(
        "select count(*) from analytics.dim_robots d join intermediate.int_robot_versions v using (robot_key)"
        " where d.robot_id <> v.robot_id or d.effective_date <> cast(v.valid_from_ts as date)"
    ) == [(0,)]


def test_member_reappearing_after_delete_gets_a_new_non_overlapping_version(dbt_project):
    tables = dataset.realistic_tables()
    load_staging(dbt_project.warehouse_url, **tables)
    dbt_project.build(*DIMS)
    load_staging(dbt_project.warehouse_url, surgeons=[s for s in tables["surgeons"] if s["surgeon_id"] != "SUR-002"])
    dbt_project.build(*DIMS)

    # back, unchanged and with its old updated_at (the source restored a backup)
    load_staging(dbt_project.warehouse_url, surgeons=tables["surgeons"])
    dbt_project.build(*DIMS)  # the SCD2 data tests (one current version, no overlaps) run here too

    rows = dbt_project.query(
        "select surgeon_key, valid_from_ts, valid_to_ts, is_current from intermediate.int_surgeon_versions"
        " where surgeon_id = 'SUR-002' order by surgeon_key"
    )
    assert [(key, current) for key, _, _, current in rows] == [(2, False), (5, True)]
    (_, first_from, first_to, _), (_, second_from, second_to, _) = rows
    assert first_from == datetime(2020, 1, 1) and first_to <= second_from and second_to == FAR_FUTURE
