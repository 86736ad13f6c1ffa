"""Freshness policies: on every fact and every view, on nothing else."""

import dagster as dg

from medrobotics_dagster.defs.operations.freshness import daily_load_freshness


def test_facts_and_views_carry_the_daily_load_policy_and_nothing_else_does():
    from medrobotics_dagster.definitions import defs

    graph = defs.resolve_asset_graph()
    with_policy = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).freshness_policy is not None}
    views = {k.to_user_string() for k in graph.get_all_asset_keys() if k.path[-1].startswith("vw_")}
    assert len(views) >= 11
    assert with_policy == views | {
        "warehouse/fact_procedures",
        "warehouse/fact_procedures_quarantine",
        "warehouse/fact_procedure_telemetry",
    }
    policy = graph.get(dg.AssetKey(["warehouse", "fact_procedures"])).freshness_policy
    assert policy == daily_load_freshness
    assert (policy.deadline_cron, policy.timezone) == ("0 5 * * *", "UTC")
