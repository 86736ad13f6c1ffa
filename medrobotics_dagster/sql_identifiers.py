"""SQL identifiers and literals quoted for statements built as text: any name from data is safe in them."""

from __future__ import annotations


def quote_ident(name: str) -> str:
    """A double-quoted identifier; embedded quotes doubled, so any name from data is safe."""
    if not name or "\x00" in name:
        raise ValueError(f"invalid SQL identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A Redshift string literal (backslash escapes too) for statements that take no bind parameters (COPY)."""
    if "\x00" in value:
        raise ValueError("NUL byte in SQL literal")
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def qualified(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"
