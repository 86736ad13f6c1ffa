"""A run whose process dies between the partition's DELETE and its load leaves the partition's previous rows.

The run is a real Dagster run in a child process, writing through the warehouse IO manager. Its staged Parquet
object is a named pipe: after the DELETE, the load (COPY FROM STDIN) blocks reading it before its first row,
between delete and load. The test then SIGKILLs the process and reads the table.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd

from medrobotics_dagster.io_managers.frames import columns_of
from medrobotics_dagster.io_managers.warehouse_table_writer import replace_rows
from medrobotics_dagster.io_managers.warehouse_tables import TableTarget, TimeWindow
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster_tests.conftest import SERVER_URL
from medrobotics_dagster_tests.database import query

DAY = "2024-01-15"
CHILD = textwrap.dedent(
    """
    import sys
    import dagster as dg
    from medrobotics_dagster.io_managers.frames import StagedParquet
    from medrobotics_dagster.io_managers.warehouse_io_manager import WarehouseIOManager
    from medrobotics_dagster.partitions import daily_partitions
    from medrobotics_dagster.resources.databases import Warehouse
    from medrobotics_dagster.resources.lake import Lake
    from medrobotics_dagster.column_types import Column, parse_sql_type

    warehouse_url, lake_dir, key = sys.argv[1:4]
    columns = [Column("reading_id", parse_sql_type("VARCHAR(50)")), Column("taken_at", parse_sql_type("TIMESTAMP")),
               Column("value", parse_sql_type("DOUBLE PRECISION"))]

    @dg.asset(key=["staging", "readings"], partitions_def=daily_partitions, io_manager_key="warehouse_io_manager",
              metadata={"partition_expr": "taken_at"})
    def readings() -> StagedParquet:
        return StagedParquet(keys=[key], columns=columns, sizes={key: 1})

    lake = Lake(url=lake_dir)
    io_manager = WarehouseIOManager(warehouse=Warehouse(url=warehouse_url), lake=lake)
    dg.materialize([readings], partition_key="2024-01-15", resources={"warehouse_io_manager": io_manager})
    """
)


def test_a_run_killed_between_delete_and_load_leaves_the_previous_rows(warehouse_url, tmp_path):
    lake_dir = tmp_path / "lake"
    old = pd.DataFrame(
        {
            "reading_id": [f"old-{i}" for i in range(4)],
            "taken_at": pd.date_range(f"{DAY} 08:00", periods=4, freq="h"),
            "value": [1.0, 2.0, 3.0, 4.0],
        }
    )
    window = TimeWindow(pd.Timestamp(DAY).to_pydatetime(), pd.Timestamp("2024-01-16").to_pydatetime())
    target = TableTarget("staging", "readings", columns_of(old), "taken_at", window)
    assert replace_rows(Warehouse(url=warehouse_url), Lake(url=str(lake_dir)), target, old).rows == 4

    key = f"staging/readings/dt={DAY}/part-0.parquet"
    fifo = lake_dir / key
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)  # reading it blocks until a writer comes: the load stalls right after the DELETE
    child = subprocess.Popen([sys.executable, "-c", CHILD, warehouse_url, str(lake_dir), key], start_new_session=True)
    database = warehouse_url.rsplit("/", 1)[1]
    try:
        deadline = time.monotonic() + 120
        while True:
            assert child.poll() is None, "the run ended before it was killed"
            deleted = query(
                SERVER_URL,
                # the DELETE has run in the open transaction; COPY FROM STDIN waits for its first byte
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event = 'ClientRead' "
                "AND query ILIKE 'COPY %%readings%%FROM STDIN%%'",
                (database,),
            )[0][0]
            if deleted:
                break
            assert time.monotonic() < deadline, "the run never reached its DELETE"
            time.sleep(0.1)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)  # the process dies between the delete and the load
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    rows = query(warehouse_url, "SELECT reading_id FROM staging.readings ORDER BY reading_id")
    assert rows == [(f"old-{i}",) for i in range(4)]
    # and nothing is left holding the table: the next load of the partition goes through
    fifo.unlink()
    assert replace_rows(Warehouse(url=warehouse_url), Lake(url=str(lake_dir)), target, old.assign(value=9.0)).rows == 4
    assert query(warehouse_url, "SELECT count(*), sum(value) FROM staging.readings") == [(4, 36.0)]
