"""Each view's materialization carries what an analyst reads in the UI: row count, preview rows, headline figures."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from medrobotics_dagster.defs.warehouse.view_metadata import VIEW_SUMMARIES, with_view_metadata
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster_tests.database import query
from medrobotics_dagster_tests.warehouse import dataset
from medrobotics_dagster_tests.warehouse.conftest import DbtProject
from medrobotics_dagster_tests.warehouse.staging_fixture import load_staging

pytestmark = pytest.mark.long


@pytest.fixture(scope="module")
def materialized_views(make_module_database, tmp_path_factory) -> Iterator[tuple[str, dg.DagsterInstance, list]]:
    """The warehouse built with dbt, then the views step materialized twice in Dagster (a history the Plots tab can
    draw), once for the module: the tests only read it. The warehouse URL, the instance and the view keys."""
    warehouse_url, work_dir = make_module_database("warehouse"), tmp_path_factory.mktemp("view_metadata")
    patch = pytest.MonkeyPatch()
    try:
        patch.setenv("MEDROBOTICS_WAREHOUSE_URL", warehouse_url)
        patch.setenv("MEDROBOTICS_LAKE_URL", str(work_dir / "lake"))
        load_staging(warehouse_url, **dataset.realistic_tables())
        DbtProject(warehouse_url, work_dir, patch).build()
        from medrobotics_dagster.definitions import defs
        from medrobotics_dagster.defs.warehouse.dbt_assets import warehouse_views

        instance = dg.DagsterInstance.ephemeral()
        selection = dg.AssetSelection.assets(*warehouse_views.keys)
        for _ in range(2):
            result = dg.materialize(
                list(defs.assets), selection=selection, resources=dict(defs.resources), instance=instance
            )
            assert result.success
        yield warehouse_url, instance, sorted(warehouse_views.keys)
    finally:
        patch.undo()


def test_every_view_materialization_carries_its_row_count_preview_and_figures(materialized_views):
    warehouse_url, instance, keys = materialized_views
    assert {key.path[-1] for key in keys} == set(VIEW_SUMMARIES)
    for key in keys:
        view = key.path[-1]
        records = instance.fetch_materializations(key, limit=10).records
        assert len(records) == 2, view
        metadata = records[0].asset_materialization.metadata
        rows = query(warehouse_url, f"SELECT count(*) FROM analytics.{view}")[0][0]
        assert metadata["dagster/row_count"].value == rows, view
        preview = metadata["preview"].value
        assert preview.startswith("| ") and preview.endswith(f"{min(rows, 5)} of {rows:,} rows"), view
        figures = [name for name in VIEW_SUMMARIES[view].figures if name in metadata]
        assert figures and all(isinstance(metadata[name], dg.FloatMetadataValue) for name in figures), view


def test_the_headline_figures_are_the_fleets_own_numbers(materialized_views):
    warehouse_url, instance, _ = materialized_views
    outcomes = instance.fetch_materializations(dg.AssetKey(["warehouse", "vw_procedure_outcomes"]), limit=1)
    metadata = outcomes.records[0].asset_materialization.metadata
    success, readmitted, completed = query(
        warehouse_url,
        "SELECT 100.0 * count(*) FILTER (WHERE success_status = 'Successful') / count(*),"
        " 100.0 * count(*) FILTER (WHERE readmission_30day), count(*)"
        " FROM analytics.fact_procedures WHERE status = 'completed'",
    )[0]
    assert metadata["procedures"].value == completed == 24
    assert metadata["success rate %"].value == pytest.approx(float(success))
    assert metadata["readmission rate %"].value == pytest.approx(float(readmitted) / completed)
    assert "| procedure_type | procedure_category |" in metadata["preview"].value


class Warnings:
    def __init__(self):
        self.messages: list[str] = []

    def warning(self, message: str) -> None:
        self.messages.append(message)


def test_a_view_whose_figures_cannot_be_read_keeps_dbts_metadata_and_says_why(warehouse_url):
    manifest = {
        "nodes": {
            "model.medrobotics.vw_robot_utilization": {
                "name": "vw_robot_utilization",
                "schema": "no_such_schema",
                "alias": "vw_robot_utilization",
            }
        }
    }
    event = dg.Output(
        None, "warehouse__vw_robot_utilization", metadata={"unique_id": "model.medrobotics.vw_robot_utilization"}
    )
    other = dg.AssetCheckResult(passed=True, asset_key=dg.AssetKey(["warehouse", "vw_robot_utilization"]))
    log = Warnings()
    events = list(with_view_metadata([event, other], manifest, Warehouse(url=warehouse_url), log))
    assert len(events) == 2 and events[0] is event and events[1] is other
    assert len(log.messages) == 1 and log.messages[0].startswith("vw_robot_utilization: no preview or figures")
    assert "no_such_schema" in log.messages[0]
