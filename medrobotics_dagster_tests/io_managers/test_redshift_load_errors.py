"""COPY failure diagnostics: run on real PostgreSQL, where the Redshift views do not exist, they never hide the
error."""

import re
from datetime import datetime, timedelta

import psycopg2
import pytest
import sqlglot
from sqlglot import exp

from medrobotics_dagster.io_managers.redshift_load_errors import (
    DIAGNOSTIC_QUERIES,
    SESSION_SQL,
    copy_failure_message,
    copy_session,
    describe_copy_failure,
)
from medrobotics_dagster_tests.redshift_rules import assert_redshift_sql


def failed_copy(conn) -> tuple[Exception, object]:
    """A real COPY that fails on bad data, with the session captured before it, as the writer does."""
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS target (n integer)")
        session = copy_session(cur, "postgres")
        with pytest.raises(psycopg2.DataError) as info:
            cur.copy_expert("COPY target FROM STDIN", __import__("io").StringIO("1\nnot-a-number\n"))
    conn.rollback()
    return info.value, session


def test_missing_system_views_are_recorded_and_the_copy_error_comes_first(warehouse_url):
    conn = psycopg2.connect(warehouse_url)
    try:
        copy_error, session = failed_copy(conn)
        diagnosis = describe_copy_failure(conn, session.session_pid, session.started_at)
        assert diagnosis.rejected_rows == []
        # each failure rolled back before the next query: the second error is its own, not "transaction is aborted"
        assert [e.split(":")[0] for e in diagnosis.diagnostic_errors] == ["sys_load_error_detail", "stl_load_errors"]
        assert all("does not exist" in e for e in diagnosis.diagnostic_errors)
        message = copy_failure_message("staging.target", copy_error, diagnosis)
        assert message.startswith("COPY into staging.target failed: invalid input syntax for type integer")
        assert "load-error diagnostics unavailable: sys_load_error_detail: relation" in message
        # the connection is usable and not left inside a transaction
        assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    finally:
        conn.close()


def test_even_the_caller_forgetting_the_rollback_or_a_dead_connection_does_not_raise(warehouse_url):
    conn = psycopg2.connect(warehouse_url)
    with conn.cursor() as cur, pytest.raises(psycopg2.Error):
        cur.execute("SELECT no_such_column FROM pg_class")
    assert len(describe_copy_failure(conn, 1, datetime(2024, 1, 1)).diagnostic_errors) == 2
    conn.close()
    diagnosis = describe_copy_failure(conn, 1, datetime(2024, 1, 1))
    assert diagnosis.rejected_rows == [] and diagnosis.diagnostic_errors[0].startswith("rollback:")
    assert copy_failure_message("t", RuntimeError("COPY boom"), diagnosis).startswith("COPY into t failed: COPY boom")


def test_rows_of_this_session_since_the_copy_started_are_returned_sys_view_first(warehouse_url):
    # Tables with the documented columns of both views, so the real queries run against real rows.
    conn = psycopg2.connect(warehouse_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE sys_load_error_detail (session_id integer, start_time timestamp, file_name char(256),"
                " line_number bigint, column_name char(127), column_type char(10), error_code integer,"
                " error_message char(512))"
            )
            cur.execute(
                "CREATE TABLE stl_load_errors (session integer, starttime timestamp, filename char(256),"
                " line_number bigint, colname char(127), type char(10), err_code integer, err_reason char(100),"
                " raw_field_value char(1024))"
            )
            conn.commit()
            session = copy_session(cur, "postgres")
            earlier = session.started_at - timedelta(minutes=5)
            later = session.started_at + timedelta(seconds=1)
            cur.executemany(
                "INSERT INTO stl_load_errors "
                "VALUES (%s, %s, 's3://b/k.parquet', %s, 'n', 'int4', 1207, 'Invalid digit', 'x')",
                [
                    (session.session_pid, later, 2),
                    (session.session_pid, earlier, 9),
                    (session.session_pid + 1, later, 3),
                ],
            )
            conn.commit()
        diagnosis = describe_copy_failure(conn, session.session_pid, session.started_at)
        assert diagnosis.diagnostic_errors == []
        assert [
            (r["source"], r["line_number"], r["file_name"], r["raw_field_value"]) for r in diagnosis.rejected_rows
        ] == [("stl_load_errors", 2, "s3://b/k.parquet", "x")]
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO sys_load_error_detail VALUES (%s, %s, 's3://b/k.parquet', 0, 'n', 'int4', 15001,"
                " 'incompatible Parquet schema')",
                (session.session_pid, later),
            )
            conn.commit()
        diagnosis = describe_copy_failure(conn, session.session_pid, session.started_at)
        assert [r["source"] for r in diagnosis.rejected_rows] == ["sys_load_error_detail"]
        message = copy_failure_message("staging.t", RuntimeError("Spectrum Scan Error"), diagnosis)
        assert message.splitlines()[0] == "COPY into staging.t failed: Spectrum Scan Error"
        assert "column n (int4): [15001] incompatible Parquet schema" in message
    finally:
        conn.close()


@pytest.mark.parametrize("query", [q for _, q in DIAGNOSTIC_QUERIES] + [SESSION_SQL["redshift"]])
def test_the_diagnostic_sql_is_redshift_sql(query):
    literal = re.sub(r"%\((\w+)\)s", lambda m: "'2024-01-01 00:00:00'" if m.group(1) == "started_at" else "1", query)
    tree = sqlglot.parse_one(literal, read="redshift")
    assert isinstance(tree, exp.Select)
    assert_redshift_sql(literal)
