"""PostgreSQL and Redshift errors (psycopg2): transient or permanent by SQLSTATE, else by libpq's message."""

from __future__ import annotations

import re

from medrobotics_dagster.faults.fault import Fault

# SQLSTATE classes (first two characters) and codes; see the PostgreSQL manual, appendix A.
TRANSIENT_SQLSTATE_CLASSES = {
    "08": "connection exception",
    "53": "insufficient resources",
    "40": "transaction rollback (serialization failure or deadlock)",
}
TRANSIENT_SQLSTATES = {
    "57P01": "server terminated the connection (admin shutdown)",
    "57P02": "server crashed",
    "57P03": "server cannot accept connections yet",
    "57014": "statement cancelled (statement timeout or cancel request)",
    "55P03": "lock not available",
}
PERMANENT_SQLSTATE_CLASSES = {
    "28": "invalid authorization (bad credentials)",
    "3D": "database does not exist",
    "3F": "schema does not exist",
    "42": "missing table or column, syntax error or insufficient privilege",
    "22": "data exception",
    "23": "integrity constraint violation",
    "0A": "feature not supported",
}
# Connection-time errors carry no SQLSTATE in psycopg2: libpq's message is all there is.
PERMANENT_CONNECT_MESSAGES = [
    (re.compile(r"password authentication failed|authentication failed for user"), "bad credentials"),
    (re.compile(r'database "[^"]*" does not exist'), "database does not exist"),
    (re.compile(r'role "[^"]*" does not exist'), "role does not exist"),
    (re.compile(r"no pg_hba\.conf entry"), "connection not allowed by pg_hba.conf"),
    (re.compile(r"permission denied for database"), "no CONNECT privilege"),
    (re.compile(r"invalid dsn|invalid connection option|invalid sslmode"), "malformed connection settings"),
    (re.compile(r"server does not support SSL"), "server refuses TLS"),
    (
        re.compile(
            r"could not translate host name .*"
            r"(Name or service not known|nodename nor servname|No address associated)"
        ),
        "host name does not resolve",
    ),
]
TRANSIENT_CONNECT_MESSAGES = [
    re.compile(p)
    for p in (
        r"could not connect to server",
        r"connection to server at .* failed",
        r"Connection refused",
        r"timeout expired",
        r"server closed the connection unexpectedly",
        r"terminating connection",
        r"connection already closed",
        r"SSL SYSCALL error",
        r"SSL connection has been closed unexpectedly",
        r"could not receive data from server",
        r"could not send data to server",
        r"Connection reset by peer",
        r"the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)",
        r"is not currently accepting connections",  # ALTER DATABASE … ALLOW_CONNECTIONS false, for maintenance
        r"too many (clients|connections)",
        r"could not translate host name",
        r"Temporary failure in name resolution",
    )
]


def classify_database_error(exc: BaseException) -> Fault | None:
    """A psycopg2 error (or a message of libpq's) as a Fault; None when it is not a database error."""
    import psycopg2

    if not isinstance(exc, psycopg2.Error):
        return None
    code = getattr(exc, "pgcode", None)
    if code:
        if code in TRANSIENT_SQLSTATES:
            return Fault("transient", f"SQLSTATE {code}: {TRANSIENT_SQLSTATES[code]}")
        if code[:2] in TRANSIENT_SQLSTATE_CLASSES:
            return Fault("transient", f"SQLSTATE {code}: {TRANSIENT_SQLSTATE_CLASSES[code[:2]]}")
        if code[:2] in PERMANENT_SQLSTATE_CLASSES:
            return Fault("permanent", f"SQLSTATE {code}: {PERMANENT_SQLSTATE_CLASSES[code[:2]]}")
    return classify_database_message(str(exc), interface=isinstance(exc, psycopg2.InterfaceError)) or Fault(
        "unknown", f"SQLSTATE {code}" if code else type(exc).__name__
    )


def classify_database_message(message: str, interface: bool = False) -> Fault | None:
    """libpq's text for errors without a SQLSTATE (connection time, a dropped connection)."""
    for pattern, reason in PERMANENT_CONNECT_MESSAGES:
        if pattern.search(message):
            return Fault("permanent", reason)
    for pattern in TRANSIENT_CONNECT_MESSAGES:
        if pattern.search(message):
            return Fault("transient", "connection lost or refused")
    if interface:  # psycopg2.InterfaceError: the connection object is closed or broken
        return Fault("transient", "connection lost")
    return None
