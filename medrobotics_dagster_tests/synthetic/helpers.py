"""Reading back what the synthetic generator wrote: table rows and lake files."""

from __future__ import annotations

from pathlib import Path

import psycopg2

from medrobotics_dagster.synthetic.source_schema import TABLES
from medrobotics_dagster_tests.database import query  # noqa: F401  (re-exported for the synthetic tests)


def table_rows(url: str) -> dict[str, list[tuple]]:
    """Every operational table's rows, ordered by primary key, with timestamps rendered in UTC."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")
            rows = {}
            for table in TABLES:
                cur.execute(f"SELECT * FROM {table} ORDER BY 1")  # fixed table names
                rows[table] = cur.fetchall()
            return rows
    finally:
        conn.close()


def lake_files(root: Path) -> dict[str, bytes]:
    """key -> bytes of every file under a directory lake (temporary files excluded)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".tmp-")
    }
