"""Parallel first loads of different partitions into a table that does not exist yet (dagster#18733), and the
Redshift manifest that loads staged Parquet without a second upload."""

import json
import threading

import pandas as pd
import pyarrow as pa

from medrobotics_dagster.column_types import Column, arrow_schema, integer, timestamp, varchar
from medrobotics_dagster.io_managers.frames import StagedParquet, to_parquet
from medrobotics_dagster.io_managers.warehouse_copy import manifest
from medrobotics_dagster.io_managers.warehouse_table_writer import replace_rows
from medrobotics_dagster.io_managers.warehouse_tables import TableTarget, TimeWindow
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster_tests.database import query

COLUMNS = [Column("taken_at", timestamp()), Column("sensor", varchar(20)), Column("value", integer())]


def day_rows(day: str, count: int) -> pa.Table:
    times = pd.date_range(f"{day} 00:30", periods=count, freq="h")
    return pa.table(
        {"taken_at": times, "sensor": [f"s{i}" for i in range(count)], "value": list(range(count))},
        schema=arrow_schema(COLUMNS),
    )


def test_parallel_first_loads_of_different_days_do_not_race_to_create_the_table(warehouse_url):
    warehouse = Warehouse(url=warehouse_url)
    days = [f"2024-03-{d:02d}" for d in range(1, 9)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(days))

    def load(day: str) -> None:
        start = pd.Timestamp(day, tz="UTC")
        target = TableTarget(
            "fresh_schema", "readings", COLUMNS, "taken_at", TimeWindow(start, start + pd.Timedelta(days=1))
        )
        barrier.wait()
        try:
            replace_rows(warehouse, None, target, day_rows(day, 5))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(day,)) for day in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert query(warehouse_url, "SELECT count(*), count(DISTINCT taken_at::date) FROM fresh_schema.readings") == [
        (40, 8)
    ]


def test_the_redshift_manifest_lists_each_non_empty_staged_object_with_its_length(s3_bucket):
    lake = Lake(url=f"s3://{s3_bucket}/lake")
    keys = [f"staging/lake/x/dt=2024-03-0{d}/part-0.parquet" for d in (1, 2, 3)]
    sizes = {}
    for key, count in zip(keys, (5, 0, 2), strict=True):
        data = to_parquet(day_rows("2024-03-01", count)) if count else b""
        lake.put(key, data)
        sizes[key] = len(data)
    listed = json.loads(manifest(lake, StagedParquet(keys=keys, columns=COLUMNS, sizes=sizes)))
    assert listed == {
        "entries": [
            {"url": f"s3://{s3_bucket}/lake/{keys[0]}", "mandatory": True, "meta": {"content_length": sizes[keys[0]]}},
            {"url": f"s3://{s3_bucket}/lake/{keys[2]}", "mandatory": True, "meta": {"content_length": sizes[keys[2]]}},
        ]
    }
