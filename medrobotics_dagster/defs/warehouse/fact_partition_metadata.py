"""Each partition of a daily dbt fact with its own row count, on its own materialization.

A range run is one `dbt build` and one Output per model, whose metadata Dagster copies to every partition of the
range; the count added for each partition key (`add_asset_metadata`) is that day's alone, so the fact's Plots tab
draws one point per partition loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC
from typing import Any

import dagster as dg
from psycopg2 import sql

from medrobotics_dagster.defs.warehouse.view_metadata import dbt_unique_id
from medrobotics_dagster.resources.databases import Warehouse

PARTITION_ROW_COUNT = "dagster/partition_row_count"  # Dagster's key for the rows of the materialized partition
# The UTC time the daily facts are partitioned on (their pre-hook: delete_partition_window('start_time')).
PARTITION_COLUMN = "start_time"


def rows_per_day(warehouse: Warehouse, schema: str, table: str, window: dg.TimeWindow) -> dict[str, int]:
    """Rows of the table by UTC day of the partition column, within the window ({'YYYY-MM-DD': rows})."""
    column = sql.Identifier(PARTITION_COLUMN)
    query = sql.SQL(
        "select cast({column} as date), count(*) from {table} where {column} >= %s and {column} < %s group by 1"
    )
    statement = query.format(column=column, table=sql.Identifier(schema, table))
    start, end = (moment.astimezone(UTC).replace(tzinfo=None) for moment in (window.start, window.end))  # naive UTC
    with warehouse.connection() as conn, conn.cursor() as cur:
        cur.execute(statement, (start, end))
        return {day.isoformat(): rows for day, rows in cur.fetchall()}


def with_partition_row_counts(
    events: Iterable, manifest: Mapping[str, Any], warehouse: Warehouse, context: dg.AssetExecutionContext
) -> Iterator:
    """The events of a daily dbt build; before each fact's Output, each of the run's partitions gets its row count."""
    for event in events:
        node = manifest["nodes"].get(dbt_unique_id(event), {})
        if node.get("resource_type") == "model":
            counts = rows_per_day(
                warehouse, node["schema"], node["alias"] or node["name"], context.partition_time_window
            )
            asset_key = context.asset_key_for_output(event.output_name)
            for key in context.partition_keys:
                context.add_asset_metadata({PARTITION_ROW_COUNT: counts.get(key, 0)}, asset_key, partition_key=key)
        yield event
