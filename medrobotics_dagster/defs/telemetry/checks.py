"""Checks of the telemetry fact, on the run's own partition window (checks that read an IO manager's input can
see the wrong partition, dagster#27747; these query the warehouse filtered by the window)."""

from datetime import datetime

import dagster as dg

from medrobotics_dagster.defs.telemetry.assets import FACT_KEY, WAREHOUSE_SCHEMA
from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.sql_identifiers import qualified

KEYS_CHECK_SQL = """
SELECT
    count(*),
    count(*) - count(DISTINCT telemetry_key),
    sum(CASE WHEN telemetry_key IS NULL OR procedure_key IS NULL OR timestamp_key IS NULL THEN 1 ELSE 0 END),
    sum(CASE WHEN timestamp_key < 0 OR timestamp_key / 10000 > 23 OR mod(timestamp_key / 100, 100) > 59
             OR mod(timestamp_key, 100) <> 0 THEN 1 ELSE 0 END)
FROM {table}
WHERE sample_timestamp >= %(start)s AND sample_timestamp < %(end)s
"""


@dg.asset_check(
    asset=FACT_KEY,
    partitions_def=daily_partitions,
    blocking=True,
    description="In the run's days: telemetry_key unique, no NULL key, every timestamp_key a dim_time minute (hhmm00).",
)
def telemetry_fact_keys_valid(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    window = context.partition_time_window
    counts = key_problems(warehouse, window.start.replace(tzinfo=None), window.end.replace(tzinfo=None))
    return dg.AssetCheckResult(passed=not any(v for k, v in counts.items() if k != "rows"), metadata=counts)


def key_problems(warehouse: Warehouse, start: datetime, end: datetime) -> dict[str, int]:
    """Rows of [start, end) and how many break each key rule."""
    table = qualified(WAREHOUSE_SCHEMA, FACT_KEY.path[-1])
    rows, duplicates, null_keys, bad_time_keys = warehouse.query(
        KEYS_CHECK_SQL.format(table=table), {"start": start, "end": end}
    )[0]
    return {
        "rows": int(rows),
        "duplicate_telemetry_keys": int(duplicates),
        "rows_with_null_keys": int(null_keys or 0),
        "invalid_timestamp_keys": int(bad_time_keys or 0),
    }


telemetry_checks = [telemetry_fact_keys_valid]
