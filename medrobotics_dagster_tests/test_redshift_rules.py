"""The Redshift rules flag what they describe, and leave Redshift's own idioms alone."""

import pytest

from medrobotics_dagster_tests.redshift_rules import RULES, assert_redshift_sql, check_redshift_sql


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_each_rule_flags_its_bad_example(rule):
    assert rule.id in {v.rule_id for v in check_redshift_sql(rule.bad_example)}


def test_rules_have_unique_ids_a_reason_and_a_detection():
    assert len({r.id for r in RULES}) == len(RULES)
    assert all(r.reason and (r.pattern or r.ast) for r in RULES)


@pytest.mark.parametrize(
    "sql",
    [
        "select getdate(), sysdate, current_date, trunc(getdate()) from analytics.t",
        "select substring(name, 1, 3), listagg(id, ',') within group (order by id) from analytics.t",
        "select json_extract_path_text(payload, 'robot_id') from raw.events",
        "select cast(strtol(left(md5(cast(id as varchar)), 15), 16) as bigint) from analytics.t",
        "create table analytics.t (id bigint identity(1, 1), notes varchar(max), at timestamp)"
        " diststyle key distkey (id) compound sortkey (at)",
        "create table analytics.t (id integer) interleaved sortkey (id)",
        "copy analytics.t from 's3://bucket/k.parquet' iam_role 'arn:aws:iam::1:role/r' format as parquet",
        "unload ('select * from analytics.t') to 's3://bucket/p/' iam_role 'arn:aws:iam::1:role/r' parquet",
        "delete from analytics.t where date_key >= %(start)s and date_key < %(end)s",
        "select text from stl_querytext where pid = pg_backend_pid()",
        "-- no generate_series or now() here\nselect 'current_timestamp::text' as label /* distinct on */ from analytics.t",
    ],
)
def test_redshift_idioms_comments_and_strings_are_not_flagged(sql):
    assert_redshift_sql(sql)


def test_unparsable_sql_is_reported_not_skipped():
    assert [v.rule_id for v in check_redshift_sql("select from where (")] == ["RS000"]


def test_the_helper_names_the_statement_and_every_broken_rule():
    with pytest.raises(AssertionError) as info:
        assert_redshift_sql("select now(), id::text from t", where="warehouse_sql.example")
    assert "warehouse_sql.example: RS001" in str(info.value) and "RS014" in str(info.value)
