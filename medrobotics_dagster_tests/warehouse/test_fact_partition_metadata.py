"""Each partition of a range run of the daily dbt facts carries its own row count (not the range's), so the fact's
Plots tab draws one point per partition loaded."""

from __future__ import annotations

from datetime import date

import dagster as dg

from medrobotics_dagster.defs.warehouse.fact_partition_metadata import PARTITION_ROW_COUNT
from medrobotics_dagster_tests.database import query
from medrobotics_dagster_tests.warehouse import dataset
from medrobotics_dagster_tests.warehouse.conftest import DbtProject
from medrobotics_dagster_tests.warehouse.staging_fixture import load_staging

DAYS = [f"2024-03-{day:02d}" for day in range(1, 9)]  # six days of procedures, one with more, two without any


def test_a_range_run_gives_each_fact_partition_its_own_row_count(warehouse_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDROBOTICS_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("MEDROBOTICS_LAKE_URL", str(tmp_path / "lake"))
    tables = dataset.realistic_tables()
    busy_day = dataset.procedures(first_day=date(2024, 3, 3), days=1, per_day=3, start_number=500)
    tables["surgical_procedures"] += busy_day
    tables["procedure_outcomes"] += [dataset.outcome(p) for p in busy_day]
    load_staging(warehouse_url, **tables)
    DbtProject(warehouse_url, tmp_path, monkeypatch).build()  # dimensions and snapshots the facts join
    from medrobotics_dagster.definitions import defs
    from medrobotics_dagster.defs.warehouse.dbt_assets import daily_fact_models

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        list(defs.assets),
        selection=dg.AssetSelection.assets(*daily_fact_models.keys),
        resources=dict(defs.resources),
        instance=instance,
        tags={"dagster/asset_partition_range_start": DAYS[0], "dagster/asset_partition_range_end": DAYS[-1]},
    )
    assert result.success

    expected = dict.fromkeys(DAYS, 0) | {
        day.isoformat(): rows
        for day, rows in query(
            warehouse_url, "SELECT start_time::date, count(*) FROM analytics.fact_procedures GROUP BY 1"
        )
    }
    assert expected["2024-03-03"] == 7 and expected["2024-03-01"] == 4 and expected["2024-03-08"] == 0
    fact = dg.AssetKey(["warehouse", "fact_procedures"])
    records = instance.fetch_materializations(fact, limit=100).records
    counts = {r.partition_key: r.asset_materialization.metadata[PARTITION_ROW_COUNT].value for r in records}
    assert counts == expected
    quarantine = dg.AssetKey(["warehouse", "fact_procedures_quarantine"])
    records = instance.fetch_materializations(quarantine, limit=100).records
    assert {
        r.partition_key: r.asset_materialization.metadata[PARTITION_ROW_COUNT].value for r in records
    } == dict.fromkeys(DAYS, 0)
