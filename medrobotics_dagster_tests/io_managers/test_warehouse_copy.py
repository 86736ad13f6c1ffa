"""`COPY FROM STDIN` with its CSV made ahead on a thread of its own (`ordered_ahead`): every table, counted per day,
and a failure on either side (a table that cannot be made, a row the server refuses) fails the COPY and stops the
thread."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

import psycopg2
import pyarrow as pa
import pytest

from medrobotics_dagster.column_types import Column, parse_sql_type
from medrobotics_dagster.io_managers.warehouse_copy import _csv_chunk, copy_postgres
from medrobotics_dagster.io_managers.warehouse_tables import TableTarget, TimeWindow
from medrobotics_dagster_tests.database import execute, query

COLUMNS = [Column("sample_timestamp", parse_sql_type("TIMESTAMP")), Column("robot_id", parse_sql_type("VARCHAR(8)"))]
TARGET = TableTarget(
    "public", "samples", COLUMNS, "sample_timestamp", TimeWindow(datetime(2024, 1, 1), datetime(2024, 1, 4))
)


def day(n: int, rows: int, robot: str = "ROB-1") -> pa.Table:
    return pa.table(
        {"sample_timestamp": pa.array([datetime(2024, 1, n, 9, i) for i in range(rows)]), "robot_id": [robot] * rows}
    )


def copy_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("copy-csv")]


@pytest.fixture
def samples_table(warehouse_url):
    execute(warehouse_url, "CREATE TABLE public.samples (sample_timestamp TIMESTAMP, robot_id VARCHAR(8))")
    return warehouse_url


def _copy(url: str, tables, table_of=lambda table: table) -> dict[str, int]:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            return copy_postgres(cur, TARGET, tables, table_of)
    finally:
        conn.close()


def test_rows_are_copied_and_counted_per_day(samples_table):
    assert _copy(samples_table, [day(1, 3), day(3, 2), day(2, 0)]) == {"2024-01-01": 3, "2024-01-03": 2}
    assert query(samples_table, "SELECT count(*) FROM public.samples") == [(5,)]


def test_a_table_that_fails_midway_copies_nothing(samples_table):
    def table_of(n: int) -> pa.Table:
        if n == 2:
            raise ValueError("day 2 has rows outside its window")
        return day(n, 3)

    with pytest.raises(psycopg2.errors.QueryCanceled, match="ValueError day 2 has rows outside its window"):
        _copy(samples_table, [1, 2, 3], table_of)  # psycopg2 cancels the COPY with the reader's error in its message
    assert query(samples_table, "SELECT count(*) FROM public.samples") == [(0,)]
    assert not copy_threads()


def test_a_row_the_server_refuses_fails_the_copy_and_stops_the_thread(samples_table):
    tables = [day(1, 3), day(2, 1, robot="ROB-TOO-LONG")] + [day(3, 50)] * 20
    with pytest.raises(psycopg2.errors.StringDataRightTruncation):
        _copy(samples_table, tables)
    assert query(samples_table, "SELECT count(*) FROM public.samples") == [(0,)]
    assert not copy_threads()


def test_counts_name_each_utc_day_of_the_partition_column():
    data, counts = _csv_chunk(pa.concat_tables([day(1, 2), day(2, 1)]), "sample_timestamp")
    assert data.count(b"\n") == 3
    assert {d.isoformat(): n for d, n in counts.items()} == {"2024-01-01": 2, "2024-01-02": 1}


def test_an_empty_or_missing_table_sends_nothing():
    assert _csv_chunk(None, "sample_timestamp") == (b"", Counter())
    assert _csv_chunk(day(1, 0), None) == (b"", Counter())
