"""The code location loads, and its graph has the lineage, partitions and gates the design asks for."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from medrobotics_dagster.partitions import daily_partitions

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from medrobotics_dagster.definitions import defs

    return defs


@pytest.fixture(scope="module")
def graph(defs):
    return defs.resolve_asset_graph()


def key(*path: str) -> dg.AssetKey:
    return dg.AssetKey(list(path))


def test_every_layer_is_in_the_graph(graph):
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for expected in [
        "source/facilities",
        "source/surgical_procedures",
        "raw/telemetry",
        "staging/facilities",
        "staging/surgeons",
        "staging/surgical_robots",
        "staging/robot_maintenance_logs",
        "staging/surgical_procedures",
        "staging/procedure_outcomes",
        "warehouse/dim_date",
        "warehouse/dim_time",
        "warehouse/dim_facilities",
        "warehouse/dim_surgeons",
        "warehouse/dim_robots",
        "warehouse/fact_procedures",
        "warehouse/fact_procedures_quarantine",
    ]:
        assert expected in keys, expected


def test_lineage_is_unbroken_from_source_to_fact(graph):
    def ancestors(asset_key):
        seen, todo = set(), [asset_key]
        while todo:
            for parent in graph.get(todo.pop()).parent_keys:
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    fact = ancestors(key("warehouse", "fact_procedures"))
    for upstream in ["surgical_procedures", "procedure_outcomes", "surgical_robots", "surgeons", "facilities"]:
        assert key("staging", upstream) in fact
        assert key("source", upstream) in fact
    assert key("staging", "surgical_robots") in ancestors(key("warehouse", "dim_robots"))


def test_daily_assets_share_one_partitions_definition_and_backfill_in_one_run(graph):
    daily = [graph.get(k) for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None]
    names = {n.key.to_user_string() for n in daily}
    assert {
        "staging/surgical_procedures",
        "staging/procedure_outcomes",
        "warehouse/fact_procedures",
        "raw/telemetry",
    } <= names
    assert all(n.partitions_def == daily_partitions for n in daily)
    for node in daily:
        if node.is_materializable:
            assert node.backfill_policy == dg.BackfillPolicy.single_run(), node.key


def test_snapshots_and_dimensions_are_unpartitioned_and_pooled(defs, graph):
    assert graph.get(key("warehouse", "dim_robots")).partitions_def is None
    snapshot = graph.get(key("warehouse", "snap_robots"))
    assert snapshot.partitions_def is None
    assets_def = graph.assets_def_for_key(key("warehouse", "snap_robots"))
    assert {op.pool for op in [assets_def.op]} == {"warehouse_snapshots"}


def test_staging_tables_have_blocking_unique_key_checks(graph):
    checks = {c.asset_key.to_user_string(): c.name for c in graph.asset_check_keys}
    blocking = {
        spec.key.asset_key.to_user_string() for a in graph.assets_defs for spec in a.check_specs if spec.blocking
    }
    for table in ["facilities", "surgeons", "surgical_robots", "surgical_procedures"]:
        assert f"staging/{table}" in checks
        assert f"staging/{table}" in blocking


def test_dagster_validates_the_workspace_from_the_repository_root():
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
