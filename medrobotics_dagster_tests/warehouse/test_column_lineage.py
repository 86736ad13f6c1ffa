"""Column lineage (the UI's column-level lineage, from dagster-dbt) resolves for every dbt model, those that read an
ephemeral model included, and a build logs no lineage warning; a range run of the daily facts describes the table
(column schema and lineage) on its latest partition only. A fresh process, as a run worker is: the manifest
names the configured warehouse database (test_manifest_database)."""

import json
import os
import subprocess
import sys

import pytest

from medrobotics_dagster.defs.warehouse.dbt_column_lineage import lineage_manifest, reads_an_ephemeral_model

pytestmark = pytest.mark.long

SCRIPT = """
import json, warnings
warnings.simplefilter("ignore")
import dagster as dg
from medrobotics_dagster.definitions import defs
from medrobotics_dagster.defs.warehouse.dbt_assets import daily_fact_models, warehouse_dbt_models, warehouse_views

instance = dg.DagsterInstance.ephemeral()
for assets_def, partitions in [
    (warehouse_dbt_models, None),
    (daily_fact_models, dg.PartitionKeyRange("2024-03-01", "2024-03-06")),
    (warehouse_views, None),
]:
    tags = {"dagster/asset_partition_range_start": partitions.start,
            "dagster/asset_partition_range_end": partitions.end} if partitions else None
    result = dg.materialize(list(defs.assets), selection=dg.AssetSelection.assets(*assets_def.keys),
                            resources=dict(defs.resources), instance=instance, tags=tags)
    assert result.success
lineage = {}
for assets_def in (warehouse_dbt_models, daily_fact_models, warehouse_views):
    for key in assets_def.keys:
        metadata = instance.fetch_materializations(key, limit=1).records[0].asset_materialization.metadata
        if "dagster/column_lineage" in metadata:
            deps = metadata["dagster/column_lineage"].value.deps_by_column
            lineage[key.path[-1]] = {c: sorted(d.asset_key.to_user_string() + "." + d.column_name for d in ds)
                                     for c, ds in deps.items()}
# a range run's partitions: the table's column schema and lineage on the latest one only
described = {
    key.path[-1]: sorted(
        r.partition_key for r in instance.fetch_materializations(key, limit=100).records
        if {"dagster/column_schema", "dagster/column_lineage"} & set(r.asset_materialization.metadata)
    )
    for key in daily_fact_models.keys
}
warnings = [
    entry.user_message.splitlines()[0]
    for run in instance.get_runs()
    for entry in instance.all_logs(run.run_id)
    if entry.level >= 30 and "lineage" in entry.user_message.lower()
]
print(json.dumps({"lineage": lineage, "described": described, "warnings": warnings}))
"""


def test_every_model_gets_column_lineage_and_no_run_warns(warehouse_url, tmp_path):
    from medrobotics_dagster.defs.warehouse.dbt_project import dbt_project
    from medrobotics_dagster_tests.warehouse import dataset
    from medrobotics_dagster_tests.warehouse.staging_fixture import load_staging

    load_staging(warehouse_url, **dataset.realistic_tables())
    env = {**os.environ, "MEDROBOTICS_WAREHOUSE_URL": warehouse_url, "MEDROBOTICS_LAKE_URL": str(tmp_path / "lake")}
    env.pop("MEDROBOTICS_DBT_DBNAME", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert report["warnings"] == []
    assert report["described"] == {"fact_procedures": ["2024-03-06"], "fact_procedures_quarantine": ["2024-03-06"]}
    manifest = json.loads(dbt_project.manifest_path.read_text())
    models = {p["name"] for p in manifest["nodes"].values() if p["resource_type"] == "model"}
    ephemeral = {p["name"] for p in manifest["nodes"].values() if p["config"].get("materialized") == "ephemeral"}
    assert ephemeral  # the case this is about: int_procedures_point_in_time and others are inlined CTEs
    assert set(report["lineage"]) == models - ephemeral
    lineage = report["lineage"]
    # through the ephemeral int_procedures_point_in_time, to the staging table it reads
    assert lineage["fact_procedures"]["start_time"] == ["staging/surgical_procedures.start_time"]
    assert lineage["fact_procedures"]["patient_satisfaction_score"] == [
        "staging/procedure_outcomes.patient_satisfaction_score"
    ]
    # through the ephemeral int_procedure_members, to the dimension and the fact
    assert "warehouse/dim_robots.robot_id" in lineage["vw_robot_utilization_monthly"]["robot_id"]


def test_the_lineage_manifest_gives_models_their_asset_parents_instead_of_ephemeral_ones():
    from medrobotics_dagster.defs.warehouse.dbt_project import dbt_project

    manifest = json.loads(dbt_project.manifest_path.read_text())
    models = [p for p in manifest["nodes"].values() if p["resource_type"] == "model"]
    readers = [p for p in models if reads_an_ephemeral_model(manifest, p)]
    assert {p["name"] for p in readers} >= {"fact_procedures", "fact_procedures_quarantine", "vw_robot_utilization"}
    seen = lineage_manifest(manifest)
    for props in readers:
        parents = seen["parent_map"][props["unique_id"]]
        assert parents == seen["nodes"][props["unique_id"]]["depends_on"]["nodes"]
        assert not reads_an_ephemeral_model(seen, seen["nodes"][props["unique_id"]]), props["name"]
    fact = "model.medrobotics.fact_procedures"
    assert "source.medrobotics.staging.surgical_procedures" in seen["parent_map"][fact]
    assert manifest["nodes"][fact]["depends_on"]["nodes"] != seen["parent_map"][fact]  # the original is untouched
    assert "model.medrobotics.int_procedures_point_in_time" in manifest["parent_map"][fact]
