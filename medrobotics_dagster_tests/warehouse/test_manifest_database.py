"""The dbt manifest names the configured warehouse database, so dagster-dbt's column metadata (schema and lineage
in the UI) queries the right database; a fresh process stands in for `dagster dev` or a run worker."""

import json
import os
import subprocess
import sys

SCRIPT = """
import json, warnings
warnings.simplefilter("ignore")
import dagster as dg
from medrobotics_dagster.definitions import defs
from medrobotics_dagster.defs.warehouse.dbt_assets import warehouse_dbt_models
from medrobotics_dagster.defs.warehouse.dbt_project import dbt_project
result = dg.materialize(list(defs.assets), selection=dg.AssetSelection.assets(*warehouse_dbt_models.keys),
                        resources=dict(defs.resources), raise_on_error=False)
dim = next(e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == "dim_robots")
nodes = json.loads(dbt_project.manifest_path.read_text())["nodes"]
print(json.dumps({
    "success": result.success,
    "manifest_database": next(n["database"] for n in nodes.values() if n["resource_type"] == "model"),
    "column_schema": "dagster/column_schema" in dim.materialization.metadata,
}))
"""


def test_a_process_configured_for_a_warehouse_gets_its_column_metadata(warehouse_url, tmp_path):
    from medrobotics_dagster_tests.warehouse import dataset
    from medrobotics_dagster_tests.warehouse.staging_fixture import load_staging

    load_staging(warehouse_url, **dataset.realistic_tables())
    env = {**os.environ, "MEDROBOTICS_WAREHOUSE_URL": warehouse_url, "MEDROBOTICS_LAKE_URL": str(tmp_path / "lake")}
    env.pop("MEDROBOTICS_DBT_DBNAME", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"success": True, "manifest_database": warehouse_url.rsplit("/", 1)[1], "column_schema": True}
