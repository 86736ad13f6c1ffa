"""Written rules for SQL that must run on Amazon Redshift, and a checker the tests feed statements to.

Each rule has an id, a one-line reason, its detection (a regex over the SQL with comments and string literals
blanked out, or a sqlglot AST match on the statement parsed with the `redshift` dialect) and a statement it must
flag (`bad_example`, checked by the tests so a rule cannot silently stop matching). Regexes are used where sqlglot
normalizes the spelling away (now(), current_timestamp, getdate() and sysdate all parse to CurrentTimestamp;
string_agg and LISTAGG both to GroupConcat; VARCHAR(MAX) to TEXT).

Use from a test:  assert_redshift_sql(statement, where="warehouse_sql.create_table_sql")
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError


@dataclass(frozen=True)
class Violation:
    rule_id: str
    reason: str
    snippet: str
    where: str = ""

    def __str__(self) -> str:
        place = f"{self.where}: " if self.where else ""
        return f"{place}{self.rule_id} {self.reason} -- found: {self.snippet}"


@dataclass(frozen=True)
class Rule:
    id: str
    reason: str
    bad_example: str
    pattern: str | None = None  # regex, case-insensitive, over the blanked SQL
    ast: Callable[[exp.Expression], Iterable[exp.Expression]] | None = None  # nodes that violate

    @property
    def detection(self) -> str:
        return f"regex {self.pattern}" if self.pattern else "sqlglot AST"


def _types(*kinds: exp.DataType.Type) -> Callable[[exp.Expression], Iterable[exp.Expression]]:
    return lambda tree: (d for d in tree.find_all(exp.DataType) if d.this in kinds)


def _nodes(*classes: type[exp.Expression]) -> Callable[[exp.Expression], Iterable[exp.Expression]]:
    return lambda tree: tree.find_all(*classes)


def _distinct_on(tree: exp.Expression) -> Iterable[exp.Expression]:
    return (d for d in tree.find_all(exp.Distinct) if d.args.get("on"))


def _like_any(tree: exp.Expression) -> Iterable[exp.Expression]:
    return (n for n in tree.find_all(exp.Like, exp.ILike) if isinstance(n.expression, (exp.Any, exp.All)))


RULES: tuple[Rule, ...] = (
    Rule(
        "RS001",
        "leader-node-only date function (current_timestamp, now(), localtime, current_time, age, isfinite): "
        "errors in any query over user tables; use getdate() or sysdate",
        "select id, current_timestamp as loaded_at from analytics.t",
        pattern=r"\b(?:current_timestamp|current_time|localtime|localtimestamp)\b|\b(?:now|age|isfinite)\s*\(",
    ),
    Rule(
        "RS002",
        "leader-node-only function (current_schema(s), has_*_privilege, substr, factorial, get/set_bit/byte, "
        "to_ascii): errors in any query over user tables; use substring(), etc.",
        "select substr(name, 1, 3) from analytics.t",
        pattern=r"\b(?:current_schemas?|has_(?:database|schema|table)_privilege|substr|factorial|getbit|get_byte"
        r"|set_bit|set_byte|to_ascii)\s*\(",
    ),
    Rule(
        "RS003",
        "generate_series is leader-node only: its rows cannot feed a table or join user tables; use a numbers CTE",
        "create table analytics.d as select generate_series(1, 10) as n",
        pattern=r"\bgenerate_series\s*\(",
    ),
    Rule(
        "RS004",
        "SELECT DISTINCT ON is PostgreSQL only; use row_number() over (partition by ...) = 1",
        "select distinct on (robot_id) robot_id, updated_at from t order by robot_id, updated_at desc",
        ast=_distinct_on,
    ),
    Rule(
        "RS005",
        "aggregate FILTER (WHERE ...) is PostgreSQL only; use sum(case when ... then 1 end)",
        "select count(*) filter (where success) from t",
        ast=_nodes(exp.Filter),
    ),
    Rule(
        "RS006",
        "INSERT ... ON CONFLICT (upsert) is PostgreSQL only; delete + insert (or MERGE) in one transaction",
        "insert into t (id) values (1) on conflict (id) do nothing",
        ast=_nodes(exp.OnConflict),
    ),
    Rule(
        "RS007",
        "RETURNING is PostgreSQL only; Redshift INSERT/UPDATE/DELETE return no rows",
        "delete from t where id = 1 returning id",
        ast=_nodes(exp.Returning),
    ),
    Rule(
        "RS008",
        "PostgreSQL arrays (type[], ARRAY[...], array_agg, unnest, = ANY(array)) do not exist; use SUPER or joins",
        "select array_agg(robot_id) from t",
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
        pattern=r"->>?|#>>?|@>|<@|\bjsonb\b|(?:::\s*|\bas\s+)json\b",
        ast=_types(exp.DataType.Type.JSON, exp.DataType.Type.JSONB),
    ),
    Rule(
        "RS010",
        "string_agg does not exist on Redshift; use LISTAGG(expr, sep) WITHIN GROUP (ORDER BY ...)",
        "select string_agg(robot_id, ',') from t",
        pattern=r"\bstring_agg\s*\(",
    ),
    Rule(
        "RS011",
        "object identifier casts (::regclass, ::oid, ...) are catalog-only; name tables explicitly",
        "select 'analytics.t'::regclass",
        pattern=r"::\s*(?:reg\w+|oid)\b",
        ast=_nodes(exp.ObjectIdentifier),
    ),
    Rule(
        "RS012",
        "LIKE/ILIKE ANY|ALL (array) is PostgreSQL only; OR the patterns or use SIMILAR TO / regexp",
        "select * from t where name ilike any (array['a%', 'b%'])",
        pattern=r"\bi?like\s+(?:any|all)\b",
        ast=_like_any,
    ),
    Rule(
        "RS013",
        "bit strings (::bit(n), varbit) do not exist; use strtol(hex, 16) for hash keys",
        "select cast(('x' || left(md5(id), 15))::bit(60) as bigint) from t",
        pattern=r"::\s*bit\b|\bbit\s*\(\s*\d|\bvarbit\b|\bbit\s+varying\b",
        ast=_types(exp.DataType.Type.BIT),
    ),
    Rule(
        "RS014",
        "TEXT becomes VARCHAR(256) on Redshift and truncates/fails on longer values; say VARCHAR(n) or VARCHAR(65535)",
        "create table t (id integer, notes text)",
        pattern=r"::\s*text\b|\bas\s+text\s*\)|(?:^|[(,])\s*(?!(?:select|distinct|and|or|by|when|then|else)\b)(?:\w+|\"[^\"]*\")\s+text\b",
    ),
    Rule(
        "RS015",
        "SERIAL/BIGSERIAL do not exist; use IDENTITY(seed, step) or a computed key",
        "create table t (id bigserial, name varchar(10))",
        pattern=r"\b(?:small|big)?serial\b",
        ast=_types(exp.DataType.Type.SERIAL, exp.DataType.Type.BIGSERIAL, exp.DataType.Type.SMALLSERIAL),
    ),
    Rule(
        "RS016",
        "uuid type and gen_random_uuid() do not exist; store VARCHAR(36)",
        "create table t (id uuid)",
        pattern=r"(?:::\s*|\bas\s+)uuid\b|\bgen_random_uuid\s*\(|(?:^|[(,])\s*(?!(?:select|distinct|and|or|by|when|then|else)\b)(?:\w+|\"[^\"]*\")\s+uuid\b",
        ast=_types(exp.DataType.Type.UUID),
    ),
    Rule(
        "RS017",
        "TRUNCATE commits the open transaction on Redshift: a partition replace would no longer be atomic; use DELETE",
        "truncate table analytics.fact_procedures",
        pattern=r"\btruncate\b",
        ast=_nodes(exp.TruncateTable),
    ),
    Rule(
        "RS018",
        "COPY ... FROM STDIN does not exist; stage to S3 and COPY ... FROM 's3://...' IAM_ROLE ...",
        "copy analytics.t from stdin",
        pattern=r"\bfrom\s+stdin\b",
    ),
    Rule(
        "RS019",
        "indexes do not exist on Redshift; use DISTKEY/SORTKEY",
        "create index ix_t_id on analytics.t (id)",
        pattern=r"\bcreate\s+(?:unique\s+)?index\b",
    ),
    Rule(
        "RS020",
        "LATERAL joins are PostgreSQL only (Redshift allows only SUPER navigation); use a join or window function",
        "select * from t cross join lateral (select max(x) from u where u.id = t.id) m",
        pattern=r"\blateral\b",
        ast=_nodes(exp.Lateral),
    ),
)

# Statements sqlglot's redshift dialect cannot parse although Redshift accepts them: checked by regex only.
_REGEX_ONLY = re.compile(r"^\s*(?:unload\b|.*\binterleaved\s+sortkey\b)", re.IGNORECASE | re.DOTALL)
_LITERAL_OR_COMMENT = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)
_PLACEHOLDER = re.compile(r"%\(\w+\)s|%s")


def _blank(sql: str) -> str:
    """Comments and the inside of quoted strings/identifiers as spaces; same length and line breaks."""

    def blank(match: re.Match) -> str:
        text = match.group(0)
        inner = re.sub(r"[^\n]", " ", text)
        if text[0] in "'\"":
            return text[0] + inner[1:-1] + text[-1]
        return inner

    return _LITERAL_OR_COMMENT.sub(blank, sql)


def _line_of(sql: str, position: int) -> int:
    return sql.count("\n", 0, position) + 1


def check_redshift_sql(sql: str, where: str = "") -> list[Violation]:
    """Every rule the statement(s) break; psycopg2 placeholders (%s, %(name)s) are allowed."""
    sql = _PLACEHOLDER.sub("0", sql)
    blanked = _blank(sql)
    violations: list[Violation] = []
    for rule in RULES:
        if rule.pattern:
            for match in re.finditer(rule.pattern, blanked, re.IGNORECASE | re.MULTILINE):
                line = _line_of(sql, match.start())
                violations.append(Violation(rule.id, rule.reason, f"line {line}: {sql.splitlines()[line - 1].strip()}", where))
    if _REGEX_ONLY.match(blanked):
        return violations
    try:
        trees = [t for t in sqlglot.parse(sql, read="redshift") if t is not None]
    except SqlglotError as exc:
        return violations + [Violation("RS000", "sqlglot cannot parse this as Redshift SQL", str(exc).splitlines()[0], where)]
    found = {(v.rule_id) for v in violations}
    for rule in RULES:
        if rule.ast is None or rule.id in found:
            continue  # the regex already reported it, with a line number
        for tree in trees:
            for node in rule.ast(tree):
                violations.append(Violation(rule.id, rule.reason, node.sql(dialect="redshift")[:120], where))
    return violations


def assert_redshift_sql(sql: str, where: str = "") -> None:
    """pytest helper: fail listing every broken rule."""
    violations = check_redshift_sql(sql, where)
    assert not violations, "SQL Redshift would reject or mis-run:\n" + "\n".join(str(v) for v in violations)
