"""Why a Redshift COPY failed: its rejected rows from the system views, asked without ever hiding the COPY's own error.

Use on the COPY's connection:
    session = copy_session(cur)                      # before the COPY, inside the load's transaction
    try:
        cur.execute(copy_sql)
    except Exception as exc:
        conn.rollback()
        diagnosis = describe_copy_failure(conn, session.session_pid, session.started_at)
        raise WarehouseLoadError(copy_failure_message(f"{schema}.{table}", exc, diagnosis)) from exc

The rows are found by session (pg_backend_pid) and start time, not pg_last_copy_id(): a rolled-back COPY does
not update pg_last_copy_id(). SYS_LOAD_ERROR_DETAIL is asked first (Parquet COPY errors land there, and it is the
only one on Redshift Serverless and concurrency scaling); STL_LOAD_ERRORS (provisioned clusters) second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

import psycopg2.extensions

from medrobotics_dagster.error_text import first_line

MAX_REJECTED_ROWS = 20

# Server time, so that client clock skew cannot hide the COPY's rows. getdate() is the statement's start in the
# session time zone (UTC unless changed), like the views' start_time; PostgreSQL is only used by the tests.
SESSION_SQL = {
    "redshift": "SELECT pg_backend_pid(), getdate()",
    "postgres": "SELECT pg_backend_pid(), localtimestamp",
}

SYS_LOAD_ERRORS_SQL = """
SELECT
    trim(file_name) AS file_name,
    line_number,
    trim(column_name) AS column_name,
    trim(column_type) AS column_type,
    error_code,
    trim(error_message) AS error_message,
    CAST(NULL AS VARCHAR(1024)) AS raw_field_value
FROM sys_load_error_detail
WHERE session_id = %(session_pid)s
  AND start_time >= %(started_at)s
ORDER BY start_time, line_number
LIMIT %(limit)s
"""

STL_LOAD_ERRORS_SQL = """
SELECT
    trim(filename) AS file_name,
    line_number,
    trim(colname) AS column_name,
    trim(type) AS column_type,
    err_code AS error_code,
    trim(err_reason) AS error_message,
    trim(raw_field_value) AS raw_field_value
FROM stl_load_errors
WHERE session = %(session_pid)s
  AND starttime >= %(started_at)s
ORDER BY starttime, line_number
LIMIT %(limit)s
"""

# Asked in order; the first that answers with rows is the diagnosis.
DIAGNOSTIC_QUERIES = (("sys_load_error_detail", SYS_LOAD_ERRORS_SQL), ("stl_load_errors", STL_LOAD_ERRORS_SQL))


class CopySession(NamedTuple):
    session_pid: int
    started_at: datetime


@dataclass
class CopyDiagnosis:
    """The rejected rows found (each with its `source` view) and why any diagnostic query could not answer."""

    rejected_rows: list[dict[str, Any]] = field(default_factory=list)
    diagnostic_errors: list[str] = field(default_factory=list)


def copy_session(cur: psycopg2.extensions.cursor, dialect: Literal["redshift", "postgres"] = "redshift") -> CopySession:
    """This connection's backend pid and the server's current time; call right before the COPY."""
    cur.execute(SESSION_SQL[dialect])
    pid, now = cur.fetchone()
    return CopySession(int(pid), now)


def _rollback(conn: psycopg2.extensions.connection, diagnosis: CopyDiagnosis) -> bool:
    try:
        conn.rollback()
        return True
    except Exception as exc:
        diagnosis.diagnostic_errors.append(f"rollback: {first_line(exc)}")
        return False


def describe_copy_failure(
    conn: psycopg2.extensions.connection, session_pid: int, started_at: datetime, limit: int = MAX_REJECTED_ROWS
) -> CopyDiagnosis:
    """Ask the load-error views for this session's rows since `started_at`; never raises, leaves no open transaction."""
    diagnosis = CopyDiagnosis()
    # The failed COPY aborted the transaction: nothing can be read in it, so start clean even if the caller forgot.
    if not _rollback(conn, diagnosis):
        return diagnosis
    params = {"session_pid": session_pid, "started_at": started_at, "limit": limit}
    for source, query in DIAGNOSTIC_QUERIES:
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                names = [c.name for c in cur.description]
                rows = [{"source": source, **dict(zip(names, row, strict=True))} for row in cur.fetchall()]
            conn.rollback()
        except Exception as exc:
            diagnosis.diagnostic_errors.append(f"{source}: {first_line(exc)}")
            if not _rollback(conn, diagnosis):
                break
            continue
        if rows:
            diagnosis.rejected_rows = rows
            break
    return diagnosis


def _describe_row(row: dict[str, Any]) -> str:
    where = f"{row.get('file_name') or '?'} line {row.get('line_number')}"
    column = f", column {row['column_name']} ({row.get('column_type') or '?'})" if row.get("column_name") else ""
    value = f", value {row['raw_field_value']!r}" if row.get("raw_field_value") else ""
    return f"  - {where}{column}: [{row.get('error_code')}] {row.get('error_message')}{value}"


def copy_failure_message(target: str, copy_error: BaseException, diagnosis: CopyDiagnosis) -> str:
    """The COPY's own error first, then the rejected rows, then what could not be asked."""
    lines = [f"COPY into {target} failed: {str(copy_error).strip() or type(copy_error).__name__}"]
    if diagnosis.rejected_rows:
        lines.append(f"rejected rows ({diagnosis.rejected_rows[0]['source']}):")
        lines += [_describe_row(row) for row in diagnosis.rejected_rows]
    elif not diagnosis.diagnostic_errors:
        lines.append("no rejected rows recorded for this session")
    if diagnosis.diagnostic_errors:
        lines.append("load-error diagnostics unavailable: " + "; ".join(diagnosis.diagnostic_errors))
    return "\n".join(lines)
