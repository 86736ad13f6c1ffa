"""How dbt nodes become Dagster assets: models and snapshots under `warehouse/`, sources mapped by their meta."""

from typing import Any, Mapping

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


warehouse_translator = WarehouseDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
