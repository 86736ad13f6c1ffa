"""Opening PostgreSQL-protocol connections (PostgreSQL, RDS, Redshift) with production settings."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urlsplit

import psycopg2
import psycopg2.extensions

from medrobotics_dagster.settings import ConfigError, redact

# Long COPYs on an idle-looking connection get dropped by NAT and load balancers without keepalives.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 60, "keepalives_interval": 10, "keepalives_count": 5}


def libpq_dsn(url: str) -> str:
    """psycopg2 accepts only postgresql:// URIs; Redshift URLs are the same protocol."""
    parts = urlsplit(url)
    if parts.scheme in ("redshift", "postgres"):
        return parts._replace(scheme="postgresql").geturl()
    return url


def connect(url: str, setting: str, statement_timeout_s: int | None = None) -> psycopg2.extensions.connection:
    """A new connection; an unreachable or refusing server becomes a ConfigError naming `setting`."""
    options = f"-c statement_timeout={statement_timeout_s * 1000}" if statement_timeout_s else None
    try:
        return psycopg2.connect(
            libpq_dsn(url), connect_timeout=10, application_name="medrobotics_dagster", options=options, **KEEPALIVES
        )
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(setting, f"cannot connect to {redact(url)}: {reason}") from exc


@contextmanager
def transaction(url: str, setting: str, statement_timeout_s: int | None = None) -> Iterator[psycopg2.extensions.connection]:
    """A connection whose work commits on success and rolls back on any exception."""
    conn = connect(url, setting, statement_timeout_s)
    try:
        with conn:
            yield conn
    finally:
        conn.close()
