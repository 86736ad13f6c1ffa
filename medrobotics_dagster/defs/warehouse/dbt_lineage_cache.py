"""Column lineage remembered by what determines it: the same compiled SQL over the same columns has the same lineage.

dagster-dbt derives a model's column lineage with sqlglot on every materialization (parse, optimize, one lineage
walk per column): a second or more of CPU per dbt step here, for the answer the last run already gave. Derived
lineage is kept under the dbt target folder, keyed by everything the derivation reads: the compiled SQL, the
model's and its parents' columns, the parents' relations and asset keys, the adapter, and the versions of
dagster-dbt and sqlglot.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster_dbt.core.dbt_event_iterator as dbt_event_iterator
from dagster._serdes import deserialize_value, serialize_value

from medrobotics_dagster.project_paths import DBT_TARGET_DIR

LINEAGE_DIR = DBT_TARGET_DIR / "column-lineage"
KEPT_LINEAGES = 2000
VERSIONS = (version("dagster-dbt"), version("sqlglot"))
_derive_lineage = dbt_event_iterator._build_column_lineage_metadata


def compiled_sql_path(target_path: Path, props: dict[str, Any]) -> Path:
    """Where dbt wrote the node's compiled SQL (a snapshot file's blocks each under a folder named after the file)."""
    path = Path(props["original_file_path"].replace("\\", "/"))
    if props["resource_type"] == "snapshot":
        path = path / f"{props['name']}.sql"
    return target_path / "compiled" / props["package_name"] / path


def lineage_key(event_history_metadata, dbt_resource_props, manifest, dagster_dbt_translator, target_path, project):
    """A digest of every input of dagster-dbt's lineage derivation; None when there is no compiled SQL to read."""
    if not target_path:
        return None
    sql_path = compiled_sql_path(Path(target_path), dbt_resource_props)
    if not sql_path.is_file():
        return None
    parents = []
    for unique_id in dbt_resource_props.get("depends_on", {}).get("nodes", []):
        props = (manifest["sources"] if unique_id.startswith("source") else manifest["nodes"])[unique_id]
        key = dagster_dbt_translator.get_asset_spec(manifest, unique_id, project).key
        parents.append([props["relation_name"], key.to_user_string()])
    inputs = [
        VERSIONS,
        manifest["metadata"]["adapter_type"],
        dbt_resource_props["unique_id"],
        dbt_resource_props["resource_type"],
        dbt_resource_props.get("relation_name"),
        sql_path.read_text(),
        event_history_metadata.columns,
        event_history_metadata.parents,
        parents,
    ]
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def cached_column_lineage(
    event_history_metadata, dbt_resource_props, manifest, dagster_dbt_translator, target_path, project
):
    """dagster-dbt's `_build_column_lineage_metadata`, read from the cache when its inputs were seen before."""
    args = (event_history_metadata, dbt_resource_props, manifest, dagster_dbt_translator, target_path, project)
    key = lineage_key(*args)
    if key is None:
        return _derive_lineage(*args)
    path = LINEAGE_DIR / f"{key}.json"
    try:
        return deserialize_value(path.read_text(), dict)
    except (OSError, ValueError):
        pass  # not derived yet, or written by another version: derived again
    lineage = _derive_lineage(*args)
    _store(path, serialize_value(lineage))
    return lineage


def _store(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)
    entries = list(path.parent.iterdir())
    if len(entries) > KEPT_LINEAGES:  # the oldest half goes: models whose SQL or columns have since changed
        for old in sorted(entries, key=lambda p: p.stat().st_mtime)[: len(entries) // 2]:
            old.unlink(missing_ok=True)


def use_cached_column_lineage() -> None:
    """Make dagster-dbt's column metadata fetch derive lineage through the cache (it imports the function by name)."""
    dbt_event_iterator._build_column_lineage_metadata = cached_column_lineage
