"""The views step on a warehouse whose facts were never loaded: the facts are created empty first, then the views."""

import dagster as dg

from medrobotics_dagster_tests.database import query
from medrobotics_dagster_tests.warehouse import dataset
from medrobotics_dagster_tests.warehouse.staging_fixture import load_staging


def test_views_build_before_any_fact_partition_was_loaded(warehouse_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDROBOTICS_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("MEDROBOTICS_LAKE_URL", str(tmp_path / "lake"))
    load_staging(warehouse_url, **dataset.realistic_tables())
    from medrobotics_dagster.definitions import defs
    from medrobotics_dagster.defs.warehouse.dbt_assets import warehouse_dbt_models, warehouse_views

    selection = dg.AssetSelection.assets(*warehouse_dbt_models.keys, *warehouse_views.keys)
    result = dg.materialize(
        list(defs.assets), selection=selection, resources=dict(defs.resources), raise_on_error=False
    )
    assert result.success
    counts = query(
        warehouse_url,
        "SELECT (SELECT count(*) FROM analytics.fact_procedures), "
        "(SELECT count(*) FROM analytics.fact_procedures_quarantine), "
        "(SELECT count(*) FROM analytics.fact_procedure_telemetry), "
        "(SELECT count(*) FROM information_schema.views WHERE table_schema = 'analytics' AND table_name LIKE 'vw%%')",
    )
    assert counts == [(0, 0, 0, 11)]
