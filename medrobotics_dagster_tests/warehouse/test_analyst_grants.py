"""The analysts' grants as dbt-redshift renders them at run time (rendered offline: no cluster), and the check that
stops a run whose analyst role no GRANT can name."""

from __future__ import annotations

import json

import pytest

from medrobotics_dagster_tests.redshift_rules import assert_redshift_sql
from medrobotics_dagster_tests.warehouse.dbt_offline import render_inline

ROLE = "medrobotics_analyst"
# What dbt-redshift's redshift__apply_grants does after reading the current grants: normalize, then one GRANT per
# privilege (get_dcl_statement_list with get_grant_sql), for every model; and the on-run-end hook.
RUN_TIME_GRANTS = """
{%- set statements = [] -%}
{%- for node in graph.nodes.values() if node.resource_type == 'model' and node.package_name == 'medrobotics' -%}
  {%- set grants = node.config.grants or {} -%}
  {%- if grants and redshift__use_grants_extended() -%}
    {%- set grants = redshift__normalize_grants_dict(grants) -%}
  {%- endif -%}
  {%- set relation = api.Relation.create(database=target.database, schema=node.schema, identifier=node.alias) -%}
  {%- for sql in get_dcl_statement_list(relation, grants, get_grant_sql) -%}
    {%- do statements.append({'model': node.name, 'sql': sql | trim}) -%}
  {%- endfor -%}
{%- endfor -%}
{%- do statements.append({'model': 'on-run-end', 'sql': grant_analyst_schema_usage() | trim}) -%}
{{ tojson(statements) }}
"""


@pytest.fixture(scope="module")
def redshift_grants(tmp_path_factory) -> list[dict]:
    work = tmp_path_factory.mktemp("grants")
    text = render_inline(RUN_TIME_GRANTS, "redshift", work, {"MEDROBOTICS_ANALYST_ROLE": ROLE})
    return json.loads(text)


def test_every_view_and_the_schema_are_granted_to_the_redshift_role(redshift_grants):
    by_model = {g["model"]: g["sql"] for g in redshift_grants}
    views = sorted(name for name in by_model if name.startswith("vw_"))
    assert len(views) == 11 and set(by_model) == {*views, "on-run-end"}, "views only: no table is granted"
    for view in views:
        assert by_model[view] == f'grant select on "medrobotics_dw"."analytics"."{view}" to ROLE {ROLE}'
    assert by_model["on-run-end"] == f'grant usage on schema "analytics" to role "{ROLE}"'


def test_the_run_time_grants_are_one_consistent_redshift_script(redshift_grants):
    assert_redshift_sql(";\n".join(g["sql"] for g in redshift_grants), where="dbt-redshift grants + on-run-end hook")


def test_a_role_no_grant_can_name_stops_the_run_before_anything_is_built(dbt_project, monkeypatch):
    monkeypatch.setenv("MEDROBOTICS_ANALYST_ROLE", 'Analyst"; drop schema analytics cascade; --')
    run = dbt_project.invoke("run", "--select", "dim_date", check=False)
    assert not run.success
    assert "MEDROBOTICS_ANALYST_ROLE must be a lower-case SQL identifier" in f"{run.exception} {run.log_text}"
    assert dbt_project.query("select count(*) from information_schema.tables where table_name = 'dim_date'") == [(0,)]
