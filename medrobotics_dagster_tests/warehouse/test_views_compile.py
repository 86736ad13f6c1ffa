"""Views and analyses as dbt sees them for both targets: late-binding views on Redshift, no ORDER BY in a view."""

from __future__ import annotations

import re

VIEWS = {
    "vw_robot_utilization",
    "vw_robot_utilization_monthly",
    "vw_procedure_outcomes",
    "vw_outcomes_by_robot_model",
    "vw_surgeon_performance",
    "vw_surgeon_procedure_categories",
    "vw_facility_performance",
    "vw_daily_procedure_volume",
    "vw_procedures_by_time_of_day",
    "vw_outcomes_by_demographics",
    "vw_telemetry_system_health",
}


def test_the_eleven_views_are_late_binding_views_without_order_by(redshift_manifest):
    nodes = {n["name"]: n for n in redshift_manifest["nodes"].values() if n["resource_type"] == "model"}
    assert VIEWS <= set(nodes)
    for name in VIEWS:
        node = nodes[name]
        assert node["config"]["materialized"] == "view" and node["config"].get("bind") is False, name
        assert node["schema"] == "analytics", name
        assert not re.search(
            r"\border\s+by\b", re.sub(r"over\s*\([^)]*\)", "", node["compiled_code"], flags=re.I), re.I
        ), name
        assert "is_current" not in node["compiled_code"], name
    assert all(
        nodes[n]["schema"] == "intermediate"
        for n in ("int_robot_versions", "int_surgeon_versions", "int_facility_versions")
    )


def test_the_fifteen_analyses_compile_for_redshift(redshift_manifest):
    analyses = [n for n in redshift_manifest["nodes"].values() if n["resource_type"] == "analysis"]
    assert len(analyses) == 15 and all(n["compiled_code"] for n in analyses)
