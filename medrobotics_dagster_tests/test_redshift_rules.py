"""The Redshift rules flag what they describe, and leave Redshift's own idioms alone."""

import pytest

from medrobotics_dagster_tests.redshift_rules import RULES, assert_redshift_sql, check_dbt_source, check_redshift_sql


def _check(rule, text: str):
    return check_dbt_source(text) if rule.over == "dbt" else check_redshift_sql(text)


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_each_rule_flags_its_bad_example(rule):
    assert rule.id in {v.rule_id for v in _check(rule, rule.bad_example)}


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_each_rule_passes_its_good_example_which_breaks_no_rule(rule):
    assert _check(rule, rule.good_example) == []
    if rule.over == "sql":
        assert_redshift_sql(rule.good_example)


def test_rules_have_unique_ids_a_reason_and_a_detection():
    assert len({r.id for r in RULES}) == len(RULES)
    assert all(r.reason and (r.pattern or r.ast or r.script) for r in RULES)


@pytest.mark.parametrize(
    "sql",
    [
        "select getdate(), sysdate, current_date, trunc(getdate()) from analytics.t",
        "select substring(name, 1, 3), listagg(id, ',') within group (order by id) from analytics.t",
        "select json_extract_path_text(payload, 'robot_id') from raw.events",
        "select cast(strtol(left(md5(cast(id as varchar(65535))), 15), 16) as bigint) from analytics.t",
        "create table analytics.t (id bigint identity(1, 1), notes varchar(max), at timestamp)"
        " diststyle key distkey (id) compound sortkey (at)",
        "create table analytics.t (id integer) interleaved sortkey (id)",
        "copy analytics.t from 's3://bucket/k.parquet' iam_role 'arn:aws:iam::1:role/r' format as parquet",
        "unload ('select * from analytics.t') to 's3://bucket/p/' iam_role 'arn:aws:iam::1:role/r' parquet",
        "delete from analytics.t where date_key >= %(start)s and date_key < %(end)s",
        "select text from stl_querytext where pid = pg_backend_pid()",
        "-- no generate_series or now() here\n"
        "select 'current_timestamp::text' as label /* distinct on */ from analytics.t",
        "select 'a;b' as v from analytics.t; select 2 from analytics.t",
    ],
)
def test_redshift_idioms_comments_and_strings_are_not_flagged(sql):
    assert_redshift_sql(sql)


# AWS's list of leader node-only functions names neither: not flagged.
@pytest.mark.parametrize("sql", ["select substr(name, 1, 3) from analytics.t", "select factorial(5) from analytics.t"])
def test_substr_and_factorial_are_not_leader_node_only(sql):
    assert "RS002" not in {v.rule_id for v in check_redshift_sql(sql)}


def test_unparsable_sql_is_reported_not_skipped():
    assert [v.rule_id for v in check_redshift_sql("select from where (")] == ["RS000"]


def test_the_helper_names_the_statement_and_every_broken_rule():
    with pytest.raises(AssertionError) as info:
        assert_redshift_sql("select now(), id::text from t", where="warehouse_sql.example")
    assert "warehouse_sql.example: RS001" in str(info.value) and "RS014" in str(info.value)


def test_json_text_inserted_into_super_without_json_parse_is_flagged():
    create = "create table a.t (id integer, extra super)"
    assert [v.rule_id for v in check_redshift_sql(f"{create}; insert into a.t (id, extra) select id, txt from s")] == [
        "RS021"
    ]
    assert check_redshift_sql(f"{create}; insert into a.t (id, extra) select id, json_parse(txt) as extra from s") == []


def test_script_rules_relate_statements_but_not_unrelated_tables():
    copy = "copy other.t from 's3://b/k' iam_role 'arn:aws:iam::1:role/r' format as parquet"
    assert check_redshift_sql(f"create table a.t (x super); {copy}") == []  # another table's COPY
    assert check_redshift_sql('grant select on a.v to analyst; grant usage on schema a to role "reader"') == []


# An earlier telemetry load's SQL, as it was: each defect is caught by its rule.
OLD_TELEMETRY_LOAD = (
    'CREATE TABLE IF NOT EXISTS "analytics"."fact_procedure_telemetry" (\n    "telemetry_key" BIGINT NOT NULL,\n'
    '    "extra_fields" SUPER,\n    "created_at" TIMESTAMP NOT NULL\n)\nDISTSTYLE KEY DISTKEY ("telemetry_key");\n'
    'COPY "analytics"."fact_procedure_telemetry"\nFROM \'s3://lake/staging/_warehouse_copy/x.manifest\'\n'
    "IAM_ROLE 'arn:aws:iam::1:role/c'\nFORMAT AS PARQUET\nMANIFEST"
)
OLD_VIEW_GRANTS = (
    'grant select on "medrobotics_dw"."analytics"."vw_facility_performance" to analyst;\n'
    'grant usage on schema "analytics" to role "analyst"'
)
OLD_README_ROLES = "CREATE ROLE medrobotics_loader LOGIN PASSWORD 'secret';"
OLD_REDSHIFT_KEY = "select cast(strtol(left(md5(cast(procedure_id as varchar)), 15), 16) as bigint) from staging.p"
OLD_MODEL_SOURCE = (
    "select\n    cast(facility_id as varchar(50)) as facility_id\nfrom {{ ref('int_facility_versions') }}"
)


@pytest.mark.parametrize(
    ("rule_id", "old_text", "dbt"),
    [
        ("RS021", OLD_TELEMETRY_LOAD, False),
        ("RS022", OLD_VIEW_GRANTS, False),
        ("RS023", OLD_README_ROLES, False),
        ("RS024", OLD_REDSHIFT_KEY, False),
        ("RS025", OLD_MODEL_SOURCE, True),
    ],
)
def test_the_checker_fails_on_the_old_code_of_each_defect(rule_id, old_text, dbt):
    found = check_dbt_source(old_text) if dbt else check_redshift_sql(old_text)
    assert [v.rule_id for v in found] == [rule_id]


def test_jinja_comments_and_the_macro_call_are_not_lengths():
    source = "{# cast(x as varchar(50)) #}\nselect cast(x as {{ varchar_chars(50) }}) -- not varchar(5)\nfrom t"
    assert check_dbt_source(source) == []


def _readme_sql_block_after(marker: str) -> str:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    after = text[text.index(marker) :]
    start = after.index("```sql") + len("```sql")
    return after[start : after.index("```", start)]


def test_the_readmes_redshift_role_statements_follow_the_rules_and_the_postgres_ones_would_not():
    redshift = _readme_sql_block_after("Redshift (users log in")
    assert "CREATE ROLE medrobotics_analyst;" in redshift and "GRANT ROLE medrobotics_analyst TO" in redshift
    assert_redshift_sql(redshift, where="README, Security")
    postgres = _readme_sql_block_after("PostgreSQL (a role with LOGIN")
    assert {v.rule_id for v in check_redshift_sql(postgres)} == {"RS023"}
