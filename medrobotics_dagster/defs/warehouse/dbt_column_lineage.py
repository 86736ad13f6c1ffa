"""Column lineage through ephemeral models: the manifest dagster-dbt's column lineage reads.

dagster-dbt resolves a model's column lineage with sqlglot over the compiled SQL, given the columns of the model's
direct parents (the manifest's `parent_map`, fetched from the warehouse). An ephemeral parent is no relation: it is
inlined into the compiled SQL as a CTE over its own parents, whose columns were never fetched, so sqlglot cannot
resolve a column read through it ("Column 'start_time' could not be resolved") and the model gets no lineage, with a
warning on every run. Dagster's asset graph already looks through ephemeral models (`get_upstream_unique_ids`: a
model's upstream assets are the nearest non-ephemeral ancestors); the lineage is given the same parents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_dbt.asset_utils import get_node, get_upstream_unique_ids, is_non_asset_node


def reads_an_ephemeral_model(manifest: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
    return any(is_non_asset_node(get_node(manifest, parent)) for parent in props.get("depends_on", {}).get("nodes", []))


def lineage_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest with each model that reads an ephemeral model depending on that model's own parents instead
    (recursively: the nearest tables, views, snapshots and sources), in `parent_map` and `depends_on`."""
    nodes = dict(manifest["nodes"])
    parent_map = dict(manifest["parent_map"])
    for unique_id, props in manifest["nodes"].items():
        if props["resource_type"] != "model" or not reads_an_ephemeral_model(manifest, props):
            continue
        parents = sorted(get_upstream_unique_ids(manifest, props))
        nodes[unique_id] = {**props, "depends_on": {**props["depends_on"], "nodes": parents}}
        parent_map[unique_id] = parents
    return {**manifest, "nodes": nodes, "parent_map": parent_map}
