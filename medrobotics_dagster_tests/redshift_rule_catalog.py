"""The written rules for SQL that must run on Amazon Redshift (the checker is `redshift_rules.py`).

Each rule has an id, a one-line reason, a detection and two statements the tests run it on: `bad_example`, which it
must flag, and `good_example`, Redshift's own idiom for the same thing, which it must not. Detections:
  * `pattern`: a regex over the SQL with comments and the inside of string literals and quoted identifiers blanked,
    used where sqlglot normalizes the spelling away (now(), current_timestamp, getdate() and sysdate all parse to
    CurrentTimestamp; string_agg and LISTAGG both to GroupConcat; VARCHAR(MAX) to TEXT);
  * `ast`: the nodes of one statement, parsed with sqlglot's `redshift` dialect, that break the rule;
  * `script`: the nodes that break it given every statement of the script (a load's CREATE + COPY + INSERT, a dbt
    run's grants and hooks): rules about how statements fit together.
Rules with `over="dbt"` read a dbt model's Jinja source instead of SQL (see `check_dbt_source`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

from medrobotics_dagster_tests.redshift_script_rules import grantees_both_bare_and_role, super_loaded_as_text

Nodes = Callable[[exp.Expression], Iterable[exp.Expression]]
ScriptNodes = Callable[[list[exp.Expression]], Iterable[exp.Expression]]


@dataclass(frozen=True)
class Rule:
    id: str
    reason: str
    bad_example: str
    good_example: str
    pattern: str | None = None  # regex, case-insensitive, over the blanked SQL (or blanked Jinja when over="dbt")
    ast: Nodes | None = None  # nodes of one statement that violate
    script: ScriptNodes | None = None  # nodes that violate, given every statement of the script
    over: Literal["sql", "dbt"] = "sql"

    @property
    def detection(self) -> str:
        return f"regex {self.pattern}" if self.pattern else "sqlglot AST"


def _types(*kinds: exp.DataType.Type) -> Nodes:
    return lambda tree: (d for d in tree.find_all(exp.DataType) if d.this in kinds)


def _nodes(*classes: type[exp.Expression]) -> Nodes:
    return lambda tree: tree.find_all(*classes)


def _distinct_on(tree: exp.Expression) -> Iterable[exp.Expression]:
    return (d for d in tree.find_all(exp.Distinct) if d.args.get("on"))


def _like_any(tree: exp.Expression) -> Iterable[exp.Expression]:
    return (n for n in tree.find_all(exp.Like, exp.ILike) if isinstance(n.expression, (exp.Any, exp.All)))


_NOT_A_NAME = r"(?!(?:select|distinct|and|or|by|when|then|else)\b)"
_COLUMN_DEF = rf"(?:^|[(,])\s*{_NOT_A_NAME}(?:\w+|\"[^\"]*\")\s+"

RULES: tuple[Rule, ...] = (
    Rule(
        "RS001",
        "leader-node-only date function (current_timestamp, now(), localtime, current_time, age, isfinite): "
        "errors in any query over user tables; use getdate() or sysdate",
        "select id, current_timestamp as loaded_at from analytics.t",
        "select id, getdate() as loaded_at, sysdate as at from analytics.t",
        pattern=r"\b(?:current_timestamp|current_time|localtime|localtimestamp)\b|\b(?:now|age|isfinite)\s*\(",
    ),
    Rule(
        "RS002",
        "leader-node-only function (current_schema(s), has_*_privilege, get/set_bit/byte, to_ascii; AWS's list of "
        "leader node-only functions): errors in any query over user tables",
        "select has_table_privilege('analyst', 'analytics.t', 'select') from analytics.t",
        "select substr(name, 1, 3), substring(name, 1, 3) from analytics.t",
        pattern=r"\b(?:current_schemas?|has_(?:database|schema|table)_privilege|getbit|get_byte"
        r"|set_bit|set_byte|to_ascii)\s*\(",
    ),
    Rule(
        "RS003",
        "generate_series is leader-node only: its rows cannot feed a table or join user tables; use a numbers CTE",
        "create table analytics.d as select generate_series(1, 10) as n",
        "create table analytics.d as select a.n * 10 + b.n as n from analytics.digits a cross join analytics.digits b",
        pattern=r"\bgenerate_series\s*\(",
    ),
    Rule(
        "RS004",
        "SELECT DISTINCT ON is PostgreSQL only; use row_number() over (partition by ...) = 1",
        "select distinct on (robot_id) robot_id, updated_at from t order by robot_id, updated_at desc",
        "select robot_id, updated_at from (select robot_id, updated_at, row_number() over (partition by robot_id "
        "order by updated_at desc) as r from t) as ranked where r = 1",
        ast=_distinct_on,
    ),
    Rule(
        "RS005",
        "aggregate FILTER (WHERE ...) is PostgreSQL only; use sum(case when ... then 1 end)",
        "select count(*) filter (where success) from t",
        "select sum(case when success then 1 else 0 end) from t",
        ast=_nodes(exp.Filter),
    ),
    Rule(
        "RS006",
        "INSERT ... ON CONFLICT (upsert) is PostgreSQL only; delete + insert (or MERGE) in one transaction",
        "insert into t (id) values (1) on conflict (id) do nothing",
        "delete from t where id = 1; insert into t (id) values (1)",
        ast=_nodes(exp.OnConflict),
    ),
    Rule(
        "RS007",
        "RETURNING is PostgreSQL only; Redshift INSERT/UPDATE/DELETE return no rows",
        "delete from t where id = 1 returning id",
        "delete from t where id = 1",
        ast=_nodes(exp.Returning),
    ),
    Rule(
        "RS008",
        "PostgreSQL arrays (type[], ARRAY[...], array_agg, unnest, = ANY(array)) do not exist; use SUPER or joins",
        "select array_agg(robot_id) from t",
        "select listagg(robot_id, ',') within group (order by robot_id) from t",
        pattern=r"\barray\s*\[|\[\s*\]|\b(?:array_agg|unnest|string_to_array|array_to_string|array_length)\s*\(",
        ast=lambda tree: (
            *_types(exp.DataType.Type.ARRAY)(tree),
            *tree.find_all(exp.ArrayAgg, exp.Explode, exp.Unnest),
        ),
    ),
    Rule(
        "RS009",
        "json/jsonb types and the ->, ->>, #>, @> operators are PostgreSQL only; use SUPER or json_extract_path_text",
        "select payload->>'robot_id' from raw.events",
        "select json_extract_path_text(payload, 'robot_id'), extra.firmware from raw.events",
        pattern=r"->>?|#>>?|@>|<@|\bjsonb\b|(?:::\s*|\bas\s+)json\b",
        ast=_types(exp.DataType.Type.JSON, exp.DataType.Type.JSONB),
    ),
    Rule(
        "RS010",
        "string_agg does not exist on Redshift; use LISTAGG(expr, sep) WITHIN GROUP (ORDER BY ...)",
        "select string_agg(robot_id, ',') from t",
        "select listagg(robot_id, ',') within group (order by robot_id) from t",
        pattern=r"\bstring_agg\s*\(",
    ),
    Rule(
        "RS011",
        "object identifier casts (::regclass, ::oid, ...) are catalog-only; name tables explicitly",
        "select 'analytics.t'::regclass",
        "select count(*) from svv_tables where table_schema = 'analytics' and table_name = 't'",
        pattern=r"::\s*(?:reg\w+|oid)\b",
        ast=_nodes(exp.ObjectIdentifier),
    ),
    Rule(
        "RS012",
        "LIKE/ILIKE ANY|ALL (array) is PostgreSQL only; OR the patterns or use SIMILAR TO / regexp",
        "select * from t where name ilike any (array['a%', 'b%'])",
        "select * from t where name ilike 'a%' or name ilike 'b%'",
        pattern=r"\bi?like\s+(?:any|all)\b",
        ast=_like_any,
    ),
    Rule(
        "RS013",
        "bit strings (::bit(n), varbit) do not exist; use strtol(hex, 16) for hash keys",
        "select cast(('x' || left(md5(id), 15))::bit(60) as bigint) from t",
        "select cast(strtol(left(md5(id), 15), 16) as bigint) from t",
        pattern=r"::\s*bit\b|\bbit\s*\(\s*\d|\bvarbit\b|\bbit\s+varying\b",
        ast=_types(exp.DataType.Type.BIT),
    ),
    Rule(
        "RS014",
        "TEXT becomes VARCHAR(256) on Redshift and truncates/fails on longer values; say VARCHAR(n) or VARCHAR(65535)",
        "create table t (id integer, notes text)",
        "create table t (id integer, notes varchar(65535), label varchar(max))",
        pattern=rf"::\s*text\b|\bas\s+text\s*\)|{_COLUMN_DEF}text\b",
    ),
    Rule(
        "RS015",
        "SERIAL/BIGSERIAL do not exist; use IDENTITY(seed, step) or a computed key",
        "create table t (id bigserial, name varchar(10))",
        "create table t (id bigint identity(1, 1), name varchar(10))",
        pattern=r"\b(?:small|big)?serial\b",
        ast=_types(exp.DataType.Type.SERIAL, exp.DataType.Type.BIGSERIAL, exp.DataType.Type.SMALLSERIAL),
    ),
    Rule(
        "RS016",
        "uuid type and gen_random_uuid() do not exist; store VARCHAR(36)",
        "create table t (id uuid)",
        "create table t (id varchar(36))",
        pattern=rf"(?:::\s*|\bas\s+)uuid\b|\bgen_random_uuid\s*\(|{_COLUMN_DEF}uuid\b",
        ast=_types(exp.DataType.Type.UUID),
    ),
    Rule(
        "RS017",
        "TRUNCATE commits the open transaction on Redshift: a partition replace would no longer be atomic; use DELETE",
        "truncate table analytics.fact_procedures",
        "delete from analytics.fact_procedures",
        pattern=r"\btruncate\b",
        ast=_nodes(exp.TruncateTable),
    ),
    Rule(
        "RS018",
        "COPY ... FROM STDIN does not exist; stage to S3 and COPY ... FROM 's3://...' IAM_ROLE ...",
        "copy analytics.t from stdin",
        "copy analytics.t from 's3://bucket/k.parquet' iam_role 'arn:aws:iam::1:role/r' format as parquet",
        pattern=r"\bfrom\s+stdin\b",
    ),
    Rule(
        "RS019",
        "indexes do not exist on Redshift; use DISTKEY/SORTKEY",
        "create index ix_t_id on analytics.t (id)",
        "create table analytics.t (id integer) diststyle key distkey (id) compound sortkey (id)",
        pattern=r"\bcreate\s+(?:unique\s+)?index\b",
    ),
    Rule(
        "RS020",
        "LATERAL joins are PostgreSQL only (Redshift allows only SUPER navigation); use a join or window function",
        "select * from t cross join lateral (select max(x) from u where u.id = t.id) m",
        "select t.*, m.x from t join (select id, max(x) as x from u group by id) m on m.id = t.id",
        pattern=r"\blateral\b",
        ast=_nodes(exp.Lateral),
    ),
    Rule(
        "RS021",
        "SUPER filled from text: a columnar COPY (Parquet/ORC) into a SUPER column needs SERIALIZETOJSON, and JSON "
        "text reaches SUPER only through JSON_PARSE; otherwise refused, or one string scalar (x.field is NULL)",
        "create table a.t (id integer, extra super); "
        "copy a.t from 's3://b/k.manifest' iam_role 'arn:aws:iam::1:role/r' format as parquet manifest",
        "create table a.t (id integer, extra super); create temp table t_text (id integer, extra varchar(65535)); "
        "copy t_text from 's3://b/k.manifest' iam_role 'arn:aws:iam::1:role/r' format as parquet manifest; "
        "insert into a.t (id, extra) select id, json_parse(extra) from t_text",
        script=super_loaded_as_text,
    ),
    Rule(
        "RS022",
        "one grantee granted both as a user (TO name) and as a ROLE (TO ROLE name): Redshift keeps users and roles "
        "apart, so one of the two GRANTs fails; grant every privilege to the ROLE",
        'grant select on analytics.vw_x to analyst; grant usage on schema "analytics" to role "analyst"',
        'grant select on analytics.vw_x to role analyst; grant usage on schema "analytics" to role "analyst"',
        script=grantees_both_bare_and_role,
    ),
    Rule(
        "RS023",
        "CREATE ROLE ... LOGIN/PASSWORD is PostgreSQL: a Redshift role cannot log in; CREATE USER name PASSWORD '...' "
        "and GRANT ROLE role TO name",
        "create role medrobotics_analyst login password 'x'",
        "create role medrobotics_analyst; create user alice password 'x'; grant role medrobotics_analyst to alice",
        pattern=r"\bcreate\s+role\s+(?:\w+|\"[^\"]*\")\s+(?:with\s+)?"
        r"(?:login|nologin|password|superuser|createdb|createrole|inherit|replication|connection\s+limit)\b",
    ),
    Rule(
        "RS024",
        "VARCHAR without a length is VARCHAR(256) on Redshift: longer values are truncated or refused; give a length "
        "in bytes (at most 65535)",
        "select md5(cast(procedure_id as varchar)) from analytics.t",
        "select md5(cast(procedure_id as varchar(65535))), cast(x as character varying(20)) from analytics.t",
        pattern=r"\b(?:n?varchar|character\s+varying)\b(?!\s*\()",
    ),
    Rule(
        "RS025",
        "a string length written in a dbt model counts characters on PostgreSQL but bytes on Redshift (a multibyte "
        "value longer than n bytes is refused); write {{ varchar_chars(n) }}, which sizes 4n bytes on Redshift",
        "select cast(facility_name as varchar(200)) as facility_name from {{ ref('stg') }}",
        "select cast(facility_name as {{ varchar_chars(200) }}) as facility_name from {{ ref('stg') }}",
        pattern=r"\b(?:n?varchar|character\s+varying|n?char|character)\s*\(\s*\d",
        over="dbt",
    ),
)
