"""Rules about how the statements of one script fit together: what a CREATE declares and a later COPY, INSERT or
GRANT does with it. Each function takes every parsed statement of the script and yields the offending nodes."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlglot import exp


def _table_name(table: exp.Table) -> str:
    """schema.table (or table) in lower case, however it was quoted."""
    return ".".join(part.lower() for part in (table.db, table.name) if part)


def _super_columns(trees: list[exp.Expression]) -> dict[str, set[str]]:
    """Tables created in the script -> their SUPER columns."""
    tables: dict[str, set[str]] = {}
    for tree in trees:
        schema = tree.this if isinstance(tree, exp.Create) else None
        if isinstance(schema, exp.Schema) and isinstance(schema.this, exp.Table):
            defs = [d for d in schema.expressions if isinstance(d, exp.ColumnDef)]
            tables[_table_name(schema.this)] = {
                d.name.lower() for d in defs if d.kind is not None and d.kind.this == exp.DataType.Type.SUPER
            }
    return tables


_COLUMNAR = re.compile(r"\bformat\b(?:\s+as)?\s+(?:parquet|orc)\b", re.IGNORECASE)
_SERIALIZETOJSON = re.compile(r"\bserializetojson\b", re.IGNORECASE)


def super_loaded_as_text(trees: list[exp.Expression]) -> Iterable[exp.Expression]:
    """A columnar COPY into SUPER columns without SERIALIZETOJSON, or an INSERT … SELECT filling a SUPER column
    with something other than JSON_PARSE(…): either way the column is refused or holds one string scalar."""
    supers = _super_columns(trees)
    for tree in trees:
        if isinstance(tree, exp.Copy) and supers.get(_table_name(tree.this)):
            text = tree.sql(dialect="redshift")
            if _COLUMNAR.search(text) and not _SERIALIZETOJSON.search(text):
                yield tree
        selects = isinstance(tree, exp.Insert) and isinstance(tree.expression, exp.Select)
        if selects and isinstance(tree.this, exp.Schema):
            columns = [c.name.lower() for c in tree.this.expressions]
            wanted = supers.get(_table_name(tree.this.this), set())
            # not strict: a SELECT * has fewer expressions than the column list
            for name, value in zip(columns, tree.expression.expressions, strict=False):
                if name in wanted and not isinstance(value.unalias(), exp.ParseJSON):
                    yield value


def grantees_both_bare_and_role(trees: list[exp.Expression]) -> Iterable[exp.Expression]:
    """GRANTs naming one grantee both as a user (bare name) and as a ROLE: on Redshift one of the two must fail."""
    principals = [p for tree in trees if isinstance(tree, exp.Grant) for p in tree.args.get("principals") or []]
    roles = {p.this.name.lower() for p in principals if str(p.args.get("kind") or "").upper() == "ROLE"}
    return (p for p in principals if not p.args.get("kind") and p.this.name.lower() in roles)
