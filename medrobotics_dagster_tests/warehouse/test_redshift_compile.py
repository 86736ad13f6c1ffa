"""The dbt project as Redshift sees it: compiled offline for the `redshift` target and checked against the rules."""

from __future__ import annotations

import shutil

from medrobotics_dagster_tests.redshift_rules import Violation, check_redshift_sql
from medrobotics_dagster_tests.warehouse.dbt_offline import SQL_DIR, compile_for_redshift

CHECKED = ("model", "snapshot", "analysis", "test")


def project_violations(manifest: dict) -> tuple[list[str], list[Violation]]:
    """The checked nodes (models, snapshots, analyses, data tests of this project) and what they break."""
    checked, violations = [], []
    for unique_id, node in sorted(manifest["nodes"].items()):
        if node["resource_type"] not in CHECKED or node["package_name"] != "medrobotics":
            continue
        assert node.get("compiled") and node.get("compiled_code"), f"{unique_id} was not compiled"
        checked.append(unique_id)
        violations += check_redshift_sql(node["compiled_code"], unique_id)
    return checked, violations


def test_every_compiled_model_snapshot_analysis_and_test_follows_the_redshift_rules(redshift_manifest):
    checked, violations = project_violations(redshift_manifest)
    names = {uid.split(".")[-1] for uid in checked}
    assert {"dim_date", "dim_time", "fact_procedures", "fact_procedures_quarantine", "snap_robots"} <= names
    assert not violations, "\n".join(str(v) for v in violations)


def test_the_redshift_target_renders_the_redshift_macros(redshift_manifest):
    code = {n["name"]: n["compiled_code"] for n in redshift_manifest["nodes"].values() if n.get("compiled_code")}
    for name in ("snap_facilities", "snap_surgeons", "snap_robots", "fact_procedures_quarantine"):
        assert "getdate()" in code[name], name
    assert "strtol(" in code["fact_procedures"]
    # string lengths in bytes (4 per character), the key's cast to the widest VARCHAR, never a bare VARCHAR (256)
    assert "cast(procedure_id as varchar(400))" in code["fact_procedures"]
    assert "as varchar(65535))" in code["fact_procedures"] and "as varchar)" not in code["fact_procedures"]
    assert "as varchar(800)) as facility_name" in code["dim_facilities"]


def test_a_new_model_that_breaks_a_rule_fails_the_check(tmp_path):
    project = tmp_path / "sql"
    shutil.copytree(SQL_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (project / "models" / "marts" / "bad_model.sql").write_text(
        "select robot_id, now() as seen_at from {{ ref('dim_robots') }}\n"
    )
    (project / "analyses" / "bad_analysis.sql").write_text(
        "select string_agg(robot_id, ',') from {{ ref('dim_robots') }}\n"
    )
    _, violations = project_violations(compile_for_redshift(project, tmp_path))
    assert {(v.where.split(".")[-1], v.rule_id) for v in violations} == {
        ("bad_model", "RS001"),
        ("bad_analysis", "RS010"),
    }
