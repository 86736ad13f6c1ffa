"""Each partition of a daily dbt fact with its own row count, on its own materialization.

A range run is one `dbt build` and one Output per model, whose metadata Dagster copies to every partition of the
range; the count added for each partition key (`add_partition_metadata`) is that day's alone, so the fact's Plots tab
draws one point per partition loaded. The model's column schema and lineage (5 to 11 KB) describe the table, not a
day: they go on the range's last partition only, the fact's latest materialization, where the UI reads them (copied
to 729 partitions they were 12 MB of a first demo's events).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import dagster as dg
from psycopg2 import sql

from medrobotics_dagster.defs.warehouse.view_metadata import dbt_unique_id
from medrobotics_dagster.io_managers import add_partition_metadata, naive_utc
from medrobotics_dagster.resources.databases import Warehouse

PARTITION_ROW_COUNT = "dagster/partition_row_count"  # Dagster's key for the rows of the materialized partition
# The UTC time the daily facts are partitioned on (their pre-hook: delete_partition_window('start_time')).
PARTITION_COLUMN = "start_time"
TABLE_METADATA = ("dagster/column_schema", "dagster/column_lineage")  # of the table: once per range


def rows_per_day(warehouse: Warehouse, schema: str, table: str, window: dg.TimeWindow) -> dict[str, int]:
    """Rows of the table by UTC day of the partition column, within the window ({'YYYY-MM-DD': rows})."""
    column = sql.Identifier(PARTITION_COLUMN)
    query = sql.SQL(
        "select cast({column} as date), count(*) from {table} where {column} >= %s and {column} < %s group by 1"
    )
    statement = query.format(column=column, table=sql.Identifier(schema, table))
    start, end = naive_utc(window.start), naive_utc(window.end)
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
            keys = context.partition_keys
            own = {key: {PARTITION_ROW_COUNT: counts.get(key, 0)} for key in keys}
            table = {name: value for name, value in event.metadata.items() if name in TABLE_METADATA}
            if len(keys) > 1 and table:
                own[keys[-1]] = {**own[keys[-1]], **table}
                event = event.with_metadata({k: v for k, v in event.metadata.items() if k not in TABLE_METADATA})
            add_partition_metadata(context, own, asset_key)
        yield event
