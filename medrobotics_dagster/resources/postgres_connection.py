"""Opening PostgreSQL-protocol connections (PostgreSQL, RDS, Redshift) with production settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg2
import psycopg2.extensions

from medrobotics_dagster.error_text import first_line
from medrobotics_dagster.settings import ConfigError, environment, redact

Dialect = Literal["postgres", "redshift"]
DEFAULT_PORTS = {"postgres": 5432, "redshift": 5439}
# A paused Redshift Serverless workgroup takes a while to answer; a local server answers at once or never.
CONNECT_TIMEOUT_S = {"postgres": 10, "redshift": 30}
# URL query parameters understood; anything else is refused rather than silently ignored by one side.
QUERY_PARAMETERS = ("host", "sslmode")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@dataclass(frozen=True)
class ConnectionParams:
    """Where and how to connect, parsed once from a URL; psycopg2 and dbt's profile both read these."""

    dialect: Dialect
    host: str
    port: int
    dbname: str
    user: str
    password: str
    sslmode: str
    connect_timeout_s: int
    # Long COPYs on an idle-looking connection get dropped by NAT and load balancers without keepalives.
    keepalives_idle_s: int = 60
    keepalives_interval_s: int = 10
    keepalives_count: int = 5

    def libpq_kwargs(self) -> dict[str, str | int]:
        """Keyword arguments of psycopg2.connect (libpq connection parameters)."""
        kwargs: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "sslmode": self.sslmode,
            "connect_timeout": self.connect_timeout_s,
            "keepalives": 1,
            "keepalives_idle": self.keepalives_idle_s,
            "keepalives_interval": self.keepalives_interval_s,
            "keepalives_count": self.keepalives_count,
            "application_name": "medrobotics_dagster",
        }
        if self.password:
            kwargs["password"] = self.password
        return kwargs

    def dsn(self) -> str:
        """The libpq DSN psycopg2 connects with."""
        return psycopg2.extensions.make_dsn(**self.libpq_kwargs())


def connection_params(url: str, dialect: Dialect | None = None) -> ConnectionParams:
    """Parse a postgresql:// or redshift:// URL; `dialect` defaults to the scheme's. Raises ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres", "redshift"):
        raise ValueError(f"expected a postgresql:// or redshift:// URL, got {redact(url)!r}")
    dialect = dialect or ("redshift" if parts.scheme == "redshift" else "postgres")
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - set(QUERY_PARAMETERS))
    if unknown:
        raise ValueError(f"unsupported URL parameters {unknown} (supported: {', '.join(QUERY_PARAMETERS)})")
    # Redshift, and RDS in production, are reached over networks we do not own: encrypted unless the URL
    # explicitly says otherwise. A local PostgreSQL (laptop, CI) may use a socket or plain TCP.
    encrypted = dialect == "redshift" or environment() == "prod"
    sslmode = query.get("sslmode") or ("require" if encrypted else "prefer")
    if sslmode not in SSLMODES:
        raise ValueError(f"sslmode must be one of {', '.join(SSLMODES)}, got {sslmode!r}")
    host = unquote(parts.hostname or "") or query.get("host")
    if not host:
        raise ValueError(f"names no host: {redact(url)!r}")
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise ValueError(f"names no database: {redact(url)!r}")
    return ConnectionParams(
        dialect=dialect,
        host=host,
        port=parts.port or DEFAULT_PORTS[dialect],
        dbname=dbname,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        sslmode=sslmode,
        connect_timeout_s=CONNECT_TIMEOUT_S[dialect],
    )


def connect(
    url: str, setting: str, statement_timeout_s: int | None = None, dialect: Dialect | None = None
) -> psycopg2.extensions.connection:
    """A new connection; a bad URL or an unreachable or refusing server becomes a ConfigError naming `setting`."""
    try:
        params = connection_params(url, dialect)
    except ValueError as exc:
        raise ConfigError(setting, str(exc)) from exc
    try:
        conn = psycopg2.connect(**params.libpq_kwargs())
    except psycopg2.OperationalError as exc:
        raise ConfigError(setting, f"cannot connect to {redact(url)}: {first_line(exc)}") from exc
    if statement_timeout_s:
        # Redshift ignores `-c` startup options (psycopg2#1650), so set it in the session. Committed at once:
        # a SET inside a transaction that later rolls back would be undone with it.
        try:
            with conn.cursor() as cur:
                cur.execute("SET statement_timeout TO %s", (int(statement_timeout_s * 1000),))
            conn.commit()
        except BaseException:
            conn.close()
            raise
    return conn


@contextmanager
def transaction(
    url: str, setting: str, statement_timeout_s: int | None = None, dialect: Dialect | None = None
) -> Iterator[psycopg2.extensions.connection]:
    """A connection whose work commits on success and rolls back on any exception."""
    conn = connect(url, setting, statement_timeout_s, dialect)
    try:
        with conn:
            yield conn
    finally:
        conn.close()
