"""dbt reads its connection from MEDROBOTICS_DBT_* variables; they come from the Warehouse resource's URL."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from medrobotics_dagster.resources.databases import Warehouse


def dbt_connection_env(url: str, dialect: str) -> dict[str, str]:
    """profiles.yml's variables for a postgresql:// or redshift:// URL (a socket directory counts as host)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = parts.hostname or query.get("host", ["localhost"])[0]
    return {
        "MEDROBOTICS_DBT_TARGET": dialect,
        "MEDROBOTICS_DBT_HOST": host,
        "MEDROBOTICS_DBT_PORT": str(parts.port or (5439 if dialect == "redshift" else 5432)),
        "MEDROBOTICS_DBT_USER": unquote(parts.username or "postgres"),
        "MEDROBOTICS_DBT_PASSWORD": unquote(parts.password or ""),
        "MEDROBOTICS_DBT_DBNAME": parts.path.lstrip("/"),
    }


@contextmanager
def dbt_warehouse_env(warehouse: Warehouse) -> Iterator[None]:
    """Set the variables while a dbt process is started (it copies os.environ), then restore them."""
    values = dbt_connection_env(warehouse.resolved_url(), warehouse.dialect)
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
