"""The warehouse IO manager: asset values in and out of warehouse tables, one partition window replaced at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from medrobotics_dagster.column_schema import column_schema_metadata, declared_column_types
from medrobotics_dagster.faults import fail_fast_on_permanent_faults
from medrobotics_dagster.io_managers import audit_log
from medrobotics_dagster.io_managers.audit_log import AuditRecord
from medrobotics_dagster.io_managers.frames import StagedParquet, columns_of
from medrobotics_dagster.io_managers.step_facts import (
    add_partition_metadata,
    attempt_of,
    io_retries_logged,
    partition_days,
    step_of,
)
from medrobotics_dagster.io_managers.warehouse_table_writer import read_rows, replace_rows
from medrobotics_dagster.io_managers.warehouse_tables import REBUILD_TAG, TableTarget, TimeWindow
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.lake import Lake

if TYPE_CHECKING:
    import pandas as pd

QUARANTINE_METADATA = "holds_quarantined_rows"  # definition metadata: the audit counts its rows as quarantined


def rebuild_requested(context) -> bool:
    """The run is an explicit rebuild (tag `medrobotics/rebuild=true`): it may create or re-shape its tables."""
    step = step_of(context)
    return step is not None and step.run_tags.get(REBUILD_TAG, "").strip().lower() == "true"


def known_partitions(context: dg.OutputContext) -> int:
    """How many partitions of the asset Dagster lists as materialized (0: the table's first load)."""
    step = step_of(context)
    return len(step.instance.get_materialized_partitions(context.asset_key)) if step is not None else 0


def _window(context) -> TimeWindow | None:
    if not context.has_asset_partitions:
        return None
    window = context.asset_partitions_time_window
    return TimeWindow(window.start, window.end)


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Writes an asset's value (pandas, Arrow, or `StagedParquet` already in the lake) to `<schema>.<asset name>`.

    Partitioned assets name their UTC time column in definition metadata `partition_expr`, and only that
    window is replaced (delete + load in one transaction). Metadata `schema` overrides the default schema. Column
    types come from the asset's column schema (`dagster/column_schema`), else from the source's own types, else from
    the data; Redshift layout from `redshift_distkey`/`redshift_sortkey`. Each load reports the table's column schema.
    A partitioned table is created only by its first load (Dagster lists no partition of it) or a run tagged
    `medrobotics/rebuild=true`; otherwise a missing or re-shaped table fails the load at once (`LostTable`).
    """

    warehouse: Warehouse
    lake: Lake
    schema_name: str = "staging"

    def _target(self, context: dg.OutputContext, value) -> TableTarget:
        metadata = context.definition_metadata or {}
        partition_expr = metadata.get("partition_expr")
        window = _window(context)
        if window and not partition_expr:
            raise dg.DagsterInvariantViolationError(
                f"{context.asset_key.to_user_string()} is partitioned but declares no 'partition_expr' metadata"
            )
        declared = declared_column_types(metadata)
        columns = value.columns if isinstance(value, StagedParquet) else columns_of(value, declared)
        return TableTarget(
            schema=metadata.get("schema") or self.schema_name,
            table=context.asset_key.path[-1],
            columns=columns,
            partition_expr=partition_expr if window else None,
            window=window,
            distkey=metadata.get("redshift_distkey"),
            sortkey=tuple(metadata.get("redshift_sortkey") or ()),
            known_partitions=known_partitions(context) if window else 0,
            rebuild=rebuild_requested(context),
        )

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        target = self._target(context, obj)
        audit = AuditRecord(
            asset_key=context.asset_key.to_user_string(),
            run_id=context.run_id,
            partition_start=target.window.start if target.window else None,
            partition_end=target.window.end if target.window else None,
            attempt=attempt_of(context)[0],
            quarantine_table=bool((context.definition_metadata or {}).get(QUARANTINE_METADATA)),
        )
        try:
            with fail_fast_on_permanent_faults(f"load of {target.name}"):  # a missing table or role is not retried
                result = replace_rows(self.warehouse, self.lake, target, obj, audit)
        except Exception as exc:
            audit_log.audit_failure(context, self.warehouse, context.asset_key, target.window, exc)
            raise
        days = partition_days(context)
        metadata: dict[str, object] = {"table": target.name, "dialect": self.warehouse.dialect}
        if target.window:
            metadata["partition_window"] = f"[{target.window.start.isoformat()}, {target.window.end.isoformat()})"
        if len(days) > 1:
            # Dagster copies a range run's output metadata to every partition: the load's totals would read as each
            # day's (and cost serializing for each); a range's partitions carry their own figures, the audit the rest
            metadata["load_id"] = audit.load_id
        else:
            metadata.update(
                {**column_schema_metadata(target.columns), **audit.metadata(), "dagster/row_count": result.rows}
            )
            metadata["rows_deleted"] = sum(result.deleted_by_day.values())
        context.add_output_metadata(metadata)
        add_partition_metadata(
            context,
            {
                key: {
                    "dagster/row_count": result.inserted_by_day.get(day, 0),
                    "rows_loaded": result.inserted_by_day.get(day, 0),
                    "rows_deleted": result.deleted_by_day.get(day, 0),
                }
                for key, day in days.items()
            },
        )

    @io_retries_logged("warehouse read of")
    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = context.asset_key.path[-1]
        metadata = context.upstream_output.definition_metadata or {}
        partition_expr = metadata.get("partition_expr")
        window = _window(context)
        schema = metadata.get("schema") or self.schema_name
        return read_rows(self.warehouse, schema, table, partition_expr if window else None, window)
