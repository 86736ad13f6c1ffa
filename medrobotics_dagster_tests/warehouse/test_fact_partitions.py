"""fact_procedures / fact_procedures_quarantine: partition windows replaced exactly, atomically, reconciled."""

from datetime import datetime

import pytest

from . import dataset
from .staging_fixture import load_staging

FACTS = ("fact_procedures", "fact_procedures_quarantine")
WINDOW = {"min_date": "2024-03-02T00:00:00+00:00", "max_date": "2024-03-04T00:00:00+00:00"}


def _fact(dbt_project) -> list[tuple]:
    return dbt_project.query("select * from analytics.fact_procedures order by procedure_id")


def _quarantine(dbt_project) -> list[tuple]:
    return dbt_project.query(
        "select procedure_id, robot_id, surgeon_id, facility_id, start_time, duration_minutes,"
        " blood_loss_ml, reason from analytics.fact_procedures_quarantine order by procedure_id"
    )


def _with_strays() -> dict[str, list[dict]]:
    """The realistic data set plus procedures whose robot or surgeon is unknown."""
    tables = dataset.realistic_tables()
    strays = [
        dataset.procedure("PROC-000900", datetime(2024, 3, 2, 10, 0), "ROB-999", "SUR-001"),
        dataset.procedure("PROC-000901", datetime(2024, 3, 3, 11, 0), "ROB-002", "SUR-999"),
        dataset.procedure("PROC-000902", datetime(2024, 3, 5, 12, 0), "ROB-999", "SUR-998", facility_id="FAC-777"),
    ]
    tables["surgical_procedures"] += strays
    tables["procedure_outcomes"] += [dataset.outcome(p) for p in strays]
    return tables


def _reconcile(dbt_project, where_staging: str = "true", where_key: str = "true") -> None:
    staging = dbt_project.query(
        "select count(*), sum(p.duration_minutes), sum(o.blood_loss_ml) from staging.surgical_procedures p"
        f" left join staging.procedure_outcomes o using (procedure_id) where {where_staging}"
    )
    loaded = dbt_project.query(
        "select count(*), sum(duration_minutes), sum(blood_loss_ml) from ("
        f" select duration_minutes, blood_loss_ml from analytics.fact_procedures where {where_key}"
        " union all"
        f" select duration_minutes, blood_loss_ml from analytics.fact_procedures_quarantine where {where_key}) loaded"
    )
    assert loaded == staging
    overlap = dbt_project.query(
        "select count(*) "
        "from analytics.fact_procedures f join analytics.fact_procedures_quarantine q using (procedure_id)"
    )
    assert overlap == [(0,)]


def test_window_rebuilt_three_times_leaves_identical_rows(dbt_project):
    load_staging(dbt_project.warehouse_url, **_with_strays())
    dbt_project.build()
    initial_fact, initial_quarantine = _fact(dbt_project), _quarantine(dbt_project)
    assert len(initial_fact) == 24 and len(initial_quarantine) == 3

    for _ in range(3):
        dbt_project.build(*FACTS, vars=WINDOW)
        assert _fact(dbt_project) == initial_fact
        assert _quarantine(dbt_project) == initial_quarantine


def test_window_is_replaced_exactly_and_other_days_are_untouched(dbt_project):
    tables = _with_strays()
    load_staging(dbt_project.warehouse_url, **tables)
    dbt_project.build()
    before = {row[1]: row for row in _fact(dbt_project)}

    # in staging: drop a procedure of 03-03, add one on 03-02, and change one of 03-05 (outside the window)
    procs = [p for p in tables["surgical_procedures"] if p["procedure_id"] != "PROC-000010"]
    procs.append(dataset.procedure("PROC-000500", datetime(2024, 3, 2, 23, 59), "ROB-001", "SUR-002"))
    for p in procs:
        if p["procedure_id"] == "PROC-000017":
            p["duration_minutes"] = 999
    load_staging(dbt_project.warehouse_url, surgical_procedures=procs)
    dbt_project.build(*FACTS, vars=WINDOW)

    after = {row[1]: row for row in _fact(dbt_project)}
    assert set(after) == set(before) - {"PROC-000010"} | {"PROC-000500"}
    assert after["PROC-000017"] == before["PROC-000017"]  # 03-05 is outside the window: not rebuilt
    assert {k: v for k, v in after.items() if k != "PROC-000500"} == {
        k: v for k, v in before.items() if k != "PROC-000010"
    }
    _reconcile(
        dbt_project,
        "p.start_time >= '2024-03-02' and p.start_time < '2024-03-04'",
        "start_time >= '2024-03-02' and start_time < '2024-03-04'",
    )

    # without vars the whole history is the window
    dbt_project.build(*FACTS)
    assert _fact(dbt_project)[0][0] == before["PROC-000001"][0]  # procedure_key is stable (md5 of procedure_id)
    assert dbt_project.query(
        "select duration_minutes from analytics.fact_procedures where procedure_id = 'PROC-000017'"
    ) == [(999,)]
    _reconcile(dbt_project)


def test_failure_after_the_delete_leaves_the_previous_rows(dbt_project):
    load_staging(dbt_project.warehouse_url, **_with_strays())
    dbt_project.build()
    before_fact, before_quarantine = _fact(dbt_project), _quarantine(dbt_project)
    window_rows = dbt_project.query(
        "select procedure_id "
        "from analytics.fact_procedures where start_time >= '2024-03-02' and start_time < '2024-03-04'"
    )
    assert window_rows

    # break a column the models read: the pre-hook delete runs, then building the new rows fails
    dbt_project.execute("alter table staging.procedure_outcomes rename column blood_loss_ml to blood_loss")
    run = dbt_project.build(*FACTS, vars=WINDOW, check=False)

    assert not run.success
    assert run.status_of("fact_procedures") == "error"
    log = run.log_text
    delete_at = log.index(
        'delete from "{}"."analytics"."fact_procedures"'.format(dbt_project.warehouse_url.rsplit("/", 1)[1])
    )
    assert f"SQL status: DELETE {len(window_rows)}" in log[delete_at:]
    assert "blood_loss_ml" in log[delete_at:] and "does not exist" in log[delete_at:]
    assert _fact(dbt_project) == before_fact
    assert _quarantine(dbt_project) == before_quarantine

    # repaired, the same window loads again
    dbt_project.execute("alter table staging.procedure_outcomes rename column blood_loss to blood_loss_ml")
    dbt_project.build(*FACTS, vars=WINDOW)
    assert _fact(dbt_project) == before_fact


def test_unresolvable_procedures_go_to_quarantine_with_a_reason(dbt_project):
    tables = _with_strays()
    load_staging(dbt_project.warehouse_url, **tables)
    dbt_project.build()

    reasons = dict(dbt_project.query("select procedure_id, reason from analytics.fact_procedures_quarantine"))
    assert reasons == {
        "PROC-000900": "unknown robot ROB-999",
        "PROC-000901": "unknown surgeon SUR-999",
        "PROC-000902": "unknown robot ROB-999; unknown surgeon SUR-998; unknown facility FAC-777",
    }
    assert dbt_project.query("select count(*) from analytics.fact_procedures where procedure_id like 'PROC-0009%'") == [
        (0,)
    ]
    assert dbt_project.query("select count(*) from analytics.fact_procedures_quarantine where loaded_at is null") == [
        (0,)
    ]
    _reconcile(dbt_project)

    # the robot becomes known (late dimension data): re-running the window moves the procedure into the fact
    tables["surgical_robots"].append(dataset.robot("ROB-999"))
    load_staging(dbt_project.warehouse_url, surgical_robots=tables["surgical_robots"])
    dbt_project.build("snap_robots", "int_robot_versions", "dim_robots")
    dbt_project.build(*FACTS, vars={"min_date": "2024-03-02", "max_date": "2024-03-03"})
    assert dbt_project.query("select count(*) from analytics.fact_procedures where procedure_id = 'PROC-000900'") == [
        (1,)
    ]
    assert sorted(dict(dbt_project.query("select procedure_id, reason from analytics.fact_procedures_quarantine"))) == [
        "PROC-000901",
        "PROC-000902",
    ]
    _reconcile(dbt_project)


@pytest.mark.parametrize("window", [WINDOW, {"min_date": "2024-03-05", "max_date": "2024-03-07"}, {}])
def test_fact_plus_quarantine_reconciles_with_staging(dbt_project, window):
    load_staging(dbt_project.warehouse_url, **_with_strays())
    dbt_project.build(*FACTS, "+fact_procedures", vars=window or None)
    if window:
        lo, hi = window["min_date"][:10], window["max_date"][:10]
        _reconcile(
            dbt_project,
            f"p.start_time >= '{lo}' and p.start_time < '{hi}'",
            f"start_time >= '{lo}' and start_time < '{hi}'",
        )
        assert dbt_project.query(
            "select count(*) from (select start_time from analytics.fact_procedures union all"
            " select start_time from analytics.fact_procedures_quarantine) k"
            f" where start_time < '{lo}' or start_time >= '{hi}'"
        ) == [(0,)]
    else:
        _reconcile(dbt_project)
