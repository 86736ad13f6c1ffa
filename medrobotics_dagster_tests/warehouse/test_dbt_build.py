"""`dbt build` of the whole project on a small realistic data set: every model builds, every data test passes."""

from collections import Counter

from . import dataset
from .staging_fixture import load_staging


def test_dbt_build_passes_all_data_tests(dbt_project):
    load_staging(dbt_project.warehouse_url, **dataset.realistic_tables())

    run = dbt_project.build()

    statuses = Counter(str(r.status) for r in run.results)
    assert set(statuses) <= {"success", "pass"}, statuses
    assert statuses["pass"] >= 90  # data tests
    names = {r.node.name for r in run.results}
    assert {
        "snap_facilities",
        "snap_surgeons",
        "snap_robots",
        "dim_date",
        "dim_time",
        "dim_facilities",
        "dim_surgeons",
        "dim_robots",
        "fact_procedures",
        "fact_procedures_quarantine",
    } <= names
    assert any(n.startswith("scd2_versions_valid_") for n in names)
    assert dbt_project.query("select count(*) from analytics.fact_procedures") == [(24,)]
    assert dbt_project.query("select count(*) from analytics.fact_procedures_quarantine") == [(0,)]
    # the procedure without an outcome is still a fact, with NULL outcome columns
    assert dbt_project.query(
        "select success_status from analytics.fact_procedures where procedure_id = 'PROC-000024'"
    ) == [(None,)]
    # schemas are used verbatim (not analytics_snapshots)
    schemas = {
        s
        for (s,) in dbt_project.query(
            "select table_schema "
            "from information_schema.tables where table_schema in ('analytics', 'snapshots', 'staging')"
        )
    }
    assert schemas == {"analytics", "snapshots", "staging"}


def test_unique_source_key_test_catches_duplicates(dbt_project):
    tables = dataset.realistic_tables()
    tables["surgeons"].append(dataset.surgeon("SUR-001", surgeon_name="Dr. Duplicate"))
    load_staging(dbt_project.warehouse_url, **tables)

    run = dbt_project.invoke("test", "--select", "source:staging.surgeons", check=False)

    assert not run.success
    assert run.status_of("source_unique_staging_surgeons_surgeon_id") == "fail"
