"""How dbt nodes become Dagster assets: models and snapshots under `warehouse/`, sources mapped by their meta."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Sources keep the asset key their YAML meta names (the staging assets): lineage stays unbroken."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey(["warehouse", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "warehouse"


# Source tests (the staging tables' unique keys, the telemetry fact's keys) are asset checks on the source's own
# asset: run by dbt in the step that selects the source, reported as AssetCheckResults (not as the observations
# dagster-dbt logs, with a warning, for a test it did not expect).
warehouse_translator = WarehouseDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True)
)
