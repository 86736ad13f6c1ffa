"""Column lineage is derived once per compiled SQL and columns: a later run with the same inputs reads it back, any
changed input derives it again, and an unreadable entry is derived again rather than failing the step."""

from __future__ import annotations

import json

import pytest
from dagster_dbt.core.dbt_cli_event import EventHistoryMetadata

from medrobotics_dagster.defs.warehouse import dbt_lineage_cache
from medrobotics_dagster.defs.warehouse.dbt_project import dbt_project, ensure_manifest
from medrobotics_dagster.defs.warehouse.dbt_translator import warehouse_translator

MODEL = "model.medrobotics.vw_procedure_outcomes"
PARENT = "model.medrobotics.fact_procedures"


@pytest.fixture
def lineage_inputs(tmp_path, monkeypatch):
    """The arguments dagster-dbt passes for one view, its compiled SQL in a target folder of the test's own."""
    monkeypatch.setattr(dbt_lineage_cache, "LINEAGE_DIR", tmp_path / "column-lineage")
    derived = []
    derive = dbt_lineage_cache._derive_lineage

    def counted(*args):
        derived.append(args[1]["unique_id"])
        return derive(*args)

    monkeypatch.setattr(dbt_lineage_cache, "_derive_lineage", counted)
    manifest = json.loads(ensure_manifest().read_text())
    props = manifest["nodes"][MODEL]
    parent_relation = manifest["nodes"][PARENT]["relation_name"]
    target = tmp_path / "target"
    sql = dbt_lineage_cache.compiled_sql_path(target, props)
    sql.parent.mkdir(parents=True)
    sql.write_text(f"select procedure_id, outcome as result from {parent_relation}")
    history = EventHistoryMetadata(
        columns={"procedure_id": {"data_type": "integer"}, "result": {"data_type": "text"}},
        parents={parent_relation: {"procedure_id": {"data_type": "integer"}, "outcome": {"data_type": "text"}}},
    )
    return (
        {
            "event_history_metadata": history,
            "dbt_resource_props": props,
            "manifest": manifest,
            "dagster_dbt_translator": warehouse_translator,
            "target_path": target,
            "project": dbt_project,
        },
        sql,
        derived,
    )


def deps(lineage) -> dict[str, list[str]]:
    by_column = lineage["dagster/column_lineage"].deps_by_column
    return {c: sorted(f"{d.asset_key.to_user_string()}.{d.column_name}" for d in ds) for c, ds in by_column.items()}


def test_the_same_inputs_read_the_lineage_back_and_a_changed_input_derives_it_again(lineage_inputs):
    inputs, sql, derived = lineage_inputs
    first = dbt_lineage_cache.cached_column_lineage(**inputs)
    fact = warehouse_translator.get_asset_spec(inputs["manifest"], PARENT, dbt_project).key.to_user_string()
    assert deps(first) == {"procedure_id": [f"{fact}.procedure_id"], "result": [f"{fact}.outcome"]}
    assert derived == [MODEL]

    assert deps(dbt_lineage_cache.cached_column_lineage(**inputs)) == deps(first)
    assert derived == [MODEL]  # read back, not derived

    sql.write_text(sql.read_text().replace("outcome as result", "procedure_id as result"))
    assert deps(dbt_lineage_cache.cached_column_lineage(**inputs))["result"] == [f"{fact}.procedure_id"]
    assert len(derived) == 2

    history = inputs["event_history_metadata"]
    wider = EventHistoryMetadata(columns={**history.columns, "extra": {"data_type": "text"}}, parents=history.parents)
    dbt_lineage_cache.cached_column_lineage(**{**inputs, "event_history_metadata": wider})
    assert len(derived) == 3


def test_an_unreadable_entry_is_derived_again(lineage_inputs):
    inputs, _, derived = lineage_inputs
    first = dbt_lineage_cache.cached_column_lineage(**inputs)
    (entry,) = dbt_lineage_cache.LINEAGE_DIR.iterdir()
    entry.write_text("{not serdes")
    assert deps(dbt_lineage_cache.cached_column_lineage(**inputs)) == deps(first)
    assert len(derived) == 2
    assert deps(dbt_lineage_cache.cached_column_lineage(**inputs)) == deps(first)
    assert len(derived) == 2  # the entry was written again


def test_a_node_without_compiled_sql_is_derived_every_time(lineage_inputs):
    inputs, sql, derived = lineage_inputs
    sql.unlink()
    for _ in range(2):  # dagster-dbt's own answer each time (it logs the error and attaches no lineage)
        with pytest.raises(FileNotFoundError):
            dbt_lineage_cache.cached_column_lineage(**inputs)
    assert derived == [MODEL, MODEL]
    assert not dbt_lineage_cache.LINEAGE_DIR.exists()
