"""The checker the tests feed SQL to, against the written Redshift rules (`redshift_rule_catalog.RULES`).

Use from a test:  assert_redshift_sql(statement, where="warehouse_sql.create_table_sql")
A script of several statements (`;`-separated) is checked as one: some rules relate its statements to each other.
A dbt model's Jinja source goes through `check_dbt_source` (the rules written against what authors type).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

import sqlglot
from sqlglot.errors import SqlglotError

from medrobotics_dagster_tests.redshift_rule_catalog import RULES, Rule

__all__ = ["RULES", "Rule", "Violation", "assert_redshift_sql", "check_dbt_source", "check_redshift_sql"]


@dataclass(frozen=True)
class Violation:
    rule_id: str
    reason: str
    snippet: str
    where: str = ""

    def __str__(self) -> str:
        place = f"{self.where}: " if self.where else ""
        return f"{place}{self.rule_id} {self.reason} -- found: {self.snippet}"


# Statements sqlglot's redshift dialect cannot parse although Redshift accepts them: checked by regex only.
_REGEX_ONLY = re.compile(
    r"^\s*(?:unload\b|create\s+(?:role|user)\b|grant\s+role\b|.*\binterleaved\s+sortkey\b)", re.IGNORECASE | re.DOTALL
)
_LITERAL_OR_COMMENT = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
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


def _pattern_violations(rules: list[Rule], text: str, blanked: str, where: str) -> list[Violation]:
    violations = []
    for rule in rules:
        for match in re.finditer(rule.pattern, blanked, re.IGNORECASE | re.MULTILINE):
            line = _line_of(text, match.start())
            snippet = f"line {line}: {text.splitlines()[line - 1].strip()}"
            violations.append(Violation(rule.id, rule.reason, snippet, where))
    return violations


def _statements(sql: str, blanked: str) -> list[str]:
    """The script's statements, split at the semicolons outside literals and comments; regex-only ones left out."""
    bounds = [-1] + [m.start() for m in re.finditer(";", blanked)] + [len(sql)]
    pieces = [(sql[a + 1 : b], blanked[a + 1 : b]) for a, b in pairwise(bounds)]
    return [text for text, blank in pieces if blank.strip() and not _REGEX_ONLY.match(blank)]


def check_redshift_sql(sql: str, where: str = "") -> list[Violation]:
    """Every rule the statement(s) break; psycopg2 placeholders (%s, %(name)s) are allowed."""
    sql = _PLACEHOLDER.sub("0", sql)
    blanked = _blank(sql)
    sql_rules = [r for r in RULES if r.over == "sql"]
    violations = _pattern_violations([r for r in sql_rules if r.pattern], sql, blanked, where)
    try:
        trees = [t for text in _statements(sql, blanked) for t in sqlglot.parse(text, read="redshift") if t is not None]
    except SqlglotError as exc:
        unparsable = Violation("RS000", "sqlglot cannot parse this as Redshift SQL", str(exc).splitlines()[0], where)
        return violations + [unparsable]
    found = {v.rule_id for v in violations}
    for rule in sql_rules:
        if rule.id in found:
            continue  # the regex already reported it, with a line number
        nodes = list(rule.script(trees)) if rule.script else [n for t in trees if rule.ast for n in rule.ast(t)]
        violations += [Violation(rule.id, rule.reason, n.sql(dialect="redshift")[:120], where) for n in nodes]
    return violations


def check_dbt_source(jinja_sql: str, where: str = "") -> list[Violation]:
    """The rules written against a dbt model's (or macro's) own text, before Jinja renders it."""
    blanked = _blank(_JINJA_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), jinja_sql))
    return _pattern_violations([r for r in RULES if r.over == "dbt"], jinja_sql, blanked, where)


def assert_redshift_sql(sql: str, where: str = "") -> None:
    """pytest helper: fail listing every broken rule."""
    violations = check_redshift_sql(sql, where)
    assert not violations, "SQL Redshift would reject or mis-run:\n" + "\n".join(str(v) for v in violations)
