"""The warehouse IO manager: DataFrames in and out of warehouse tables, one partition replaced at a time."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from medrobotics_dagster.io_managers.warehouse_table_writer import TimeWindow, read_rows, replace_rows
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.lake import Lake


def _window(context) -> TimeWindow | None:
    if not context.has_asset_partitions:
        return None
    window = context.asset_partitions_time_window
    return TimeWindow(window.start, window.end)


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Writes an asset's DataFrame to `<schema>.<asset name>`; partitioned assets name their time column
    in definition metadata `partition_expr`, and only that window is replaced (delete + load in one transaction).
    Redshift: the frame is staged to the lake as Parquet and loaded with COPY; PostgreSQL: COPY FROM STDIN."""

    warehouse: Warehouse
    lake: Lake
    schema_name: str = "staging"

    def _target(self, context) -> tuple[str, str | None]:
        table = context.asset_key.path[-1]
        partition_expr = context.definition_metadata.get("partition_expr")
        if context.has_asset_partitions and not partition_expr:
            raise dg.DagsterInvariantViolationError(
                f"{context.asset_key.to_user_string()} is partitioned but declares no 'partition_expr' metadata"
            )
        return table, partition_expr

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        table, partition_expr = self._target(context)
        window = _window(context)
        rows = replace_rows(
            self.warehouse,
            self.lake,
            self.schema_name,
            table,
            obj,
            partition_expr if window else None,
            window,
            context.definition_metadata.get("column_types"),
        )
        metadata = {
            "table": f"{self.schema_name}.{table}",
            "dagster/row_count": rows,
            "dialect": self.warehouse.dialect,
        }
        if window:
            metadata["partition_window"] = f"[{window.start.isoformat()}, {window.end.isoformat()})"
        context.add_output_metadata(metadata)

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = context.asset_key.path[-1]
        partition_expr = context.upstream_output.definition_metadata.get("partition_expr")
        window = _window(context)
        return read_rows(self.warehouse, self.schema_name, table, partition_expr if window else None, window)
