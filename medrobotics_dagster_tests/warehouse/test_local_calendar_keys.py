"""fact_procedures keys speak the facility's local calendar (DST-aware); partitions and re-runs stay UTC days."""

from datetime import datetime

from . import dataset
from .staging_fixture import load_staging

FACTS = ("fact_procedures", "fact_procedures_quarantine")
# dataset robots: ROB-001 at FAC-002 (Houston, America/Chicago), ROB-002 at FAC-003 (Seattle,
# America/Los_Angeles), ROB-003 at FAC-001 (New York, America/New_York); start times are UTC.
EDGE_CASES = {
    # spring forward 2024-03-10: 06:30 UTC is still 22:30 PST on the 9th, 10:30 UTC is already 03:30 PDT
    "PROC-000101": ("ROB-002", datetime(2024, 3, 10, 6, 30)),
    "PROC-000102": ("ROB-002", datetime(2024, 3, 10, 10, 30)),
    # 01:30 PST to 03:32 PDT: a 62-minute case across the switch
    "PROC-000106": ("ROB-002", datetime(2024, 3, 10, 9, 30)),
    # fall back 2024-11-03: 05:30 and 06:30 UTC are both 01:30 in New York (EDT, then EST)
    "PROC-000103": ("ROB-003", datetime(2024, 11, 3, 5, 30)),
    "PROC-000104": ("ROB-003", datetime(2024, 11, 3, 6, 30)),
    # 01:00 UTC on July 4th is the evening of July 3rd in Houston: not a holiday there
    "PROC-000105": ("ROB-001", datetime(2024, 7, 4, 1, 0)),
}


def _tables() -> dict[str, list[dict]]:
    tables = dataset.realistic_tables()
    edge = [dataset.procedure(pid, start, robot, "SUR-001") for pid, (robot, start) in EDGE_CASES.items()]
    tables["surgical_procedures"] += edge
    tables["procedure_outcomes"] += [dataset.outcome(p) for p in edge]
    return tables


def _keys(dbt_project) -> dict[str, tuple]:
    rows = dbt_project.query(
        "select procedure_id, start_date_key, start_time_key, start_time, duration_minutes "
        "from analytics.fact_procedures"
        " where procedure_id in %s order by procedure_id",
        (tuple(EDGE_CASES),),
    )
    return {row[0]: row[1:] for row in rows}


def test_date_and_time_keys_are_the_facilitys_local_clock_across_dst(dbt_project):
    load_staging(dbt_project.warehouse_url, **_tables())
    dbt_project.build()

    keys = {pid: (date_key, time_key) for pid, (date_key, time_key, _, _) in _keys(dbt_project).items()}
    assert keys == {
        "PROC-000101": (20240309, 223000),
        "PROC-000102": (20240310, 33000),
        "PROC-000103": (20241103, 13000),
        "PROC-000104": (20241103, 13000),
        "PROC-000105": (20240703, 200000),
        "PROC-000106": (20240310, 13000),
    }
    assert {pid: start for pid, (_, _, start, _) in _keys(dbt_project).items()} == {
        pid: start for pid, (_, start) in EDGE_CASES.items()
    }
    # end keys on the same clock: 22:30 PST + 157 min is past local midnight; 01:30 PST + 62 min is 03:32 PDT
    ends = dbt_project.query(
        "select procedure_id, duration_minutes, end_date_key, end_time_key from analytics.fact_procedures"
        " where procedure_id in ('PROC-000101', 'PROC-000106') order by procedure_id"
    )
    assert ends == [("PROC-000101", 157, 20240310, 10700), ("PROC-000106", 62, 20240310, 33200)]
    calendar = dbt_project.query(
        "select d.day_name, d.is_holiday, t.time_of_day, t.business_hours from analytics.fact_procedures f"
        " join analytics.dim_date d on d.date_key = f.start_date_key"
        " join analytics.dim_time t on t.time_key = f.start_time_key"
        " where f.procedure_id in ('PROC-000101', 'PROC-000105') order by f.procedure_id"
    )
    assert calendar == [("Saturday", False, "Night", False), ("Wednesday", False, "Evening", False)]


def test_a_utc_partition_rerun_replaces_a_procedure_dated_the_local_day_before(dbt_project):
    tables = _tables()
    load_staging(dbt_project.warehouse_url, **tables)
    dbt_project.build()
    before = _keys(dbt_project)
    assert before["PROC-000101"][0] == 20240309  # local day 03-09, UTC partition 2024-03-10

    procs = [dict(p) for p in tables["surgical_procedures"] if p["procedure_id"] != "PROC-000102"]
    for p in procs:
        if p["procedure_id"] == "PROC-000101":
            p["duration_minutes"] = 999
    load_staging(dbt_project.warehouse_url, surgical_procedures=procs)

    # the local day's partition (UTC 03-09) neither deletes nor duplicates it
    dbt_project.build(*FACTS, vars={"min_date": "2024-03-09", "max_date": "2024-03-10"})
    assert _keys(dbt_project) == before
    # its own UTC day replaces it, exactly once
    dbt_project.build(*FACTS, vars={"min_date": "2024-03-10", "max_date": "2024-03-11"})
    after = _keys(dbt_project)
    assert after["PROC-000101"] == (20240309, 223000, EDGE_CASES["PROC-000101"][1], 999)
    assert "PROC-000102" not in after
    assert {k: v for k, v in after.items() if k != "PROC-000101"} == {
        k: v for k, v in before.items() if k not in ("PROC-000101", "PROC-000102")
    }
    assert dbt_project.query("select count(*), count(distinct procedure_id) from analytics.fact_procedures") == [
        (len(procs), len(procs))
    ]


def test_redshift_renders_the_conversion_with_convert_timezone(dbt_project):
    dbt_project.invoke(
        "compile", "--target", "redshift", "--no-introspect", "--no-populate-cache", "--select", "fact_procedures"
    )
    compiled = (
        dbt_project.target_path / "compiled" / "medrobotics" / "models" / "marts" / "fact_procedures.sql"
    ).read_text()
    assert "convert_timezone('UTC', time_zone, start_time) as local_start_time" in compiled
    assert "at time zone" not in compiled.lower()
