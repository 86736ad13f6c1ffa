"""Asset values as Parquet in the lake: one object per daily partition under `staging/`, typed by the table schema."""

from __future__ import annotations

import dagster as dg
import pyarrow as pa
from pydantic import Field

from medrobotics_dagster.column_schema import declared_column_types
from medrobotics_dagster.column_types import arrow_schema
from medrobotics_dagster.io_managers.frames import (
    PartitionedTables,
    StagedParquet,
    check_rows_inside,
    columns_of,
    from_parquet,
    is_frame,
    rows_in_window,
    to_arrow,
    to_pandas,
    to_parquet,
)
from medrobotics_dagster.io_managers.step_facts import add_partition_metadata, io_retries_logged
from medrobotics_dagster.resources.lake import Lake, LakeObjectNotFound

PART_NAME = "part-0.parquet"


class LakeParquetIOManager(dg.ConfigurableIOManager):
    """Stores pandas or Arrow values as `<prefix>/<asset key>/dt=<day>/part-0.parquet` (partitioned) or
    `<prefix>/<asset key>.parquet`, with the column types the asset declares (its `dagster/column_schema` metadata).

    A partition range arrives as one table, split by the UTC time in the column named by `partition_expr`,
    or as `PartitionedTables`, written one partition at a time; every partition of the range gets an object,
    empty or not. Inputs load as pandas, or as Arrow (`pa.Table`) or `StagedParquet` by annotation.
    """

    lake: Lake
    prefix: str = Field(default="staging", description="Lake folder that holds the Parquet objects.")

    def _asset_path(self, asset_key: dg.AssetKey) -> str:
        return "/".join([self.prefix.strip("/"), *asset_key.path])

    def partition_key(self, asset_key: dg.AssetKey, partition: str) -> str:
        """The lake key of one partition's object."""
        return f"{self._asset_path(asset_key)}/dt={partition}/{PART_NAME}"

    def unpartitioned_key(self, asset_key: dg.AssetKey) -> str:
        """The lake key of an unpartitioned asset's object."""
        return f"{self._asset_path(asset_key)}.parquet"

    @io_retries_logged("lake write of")
    def handle_output(self, context: dg.OutputContext, obj) -> None:
        name = context.asset_key.to_user_string()
        declared = declared_column_types(context.definition_metadata)
        if isinstance(obj, PartitionedTables):
            rows = self._write_stream(context, obj)
        elif isinstance(obj, pa.Table) or is_frame(obj):
            table = to_arrow(obj, columns_of(obj, declared))
            if context.has_asset_partitions:
                rows = {key: part for key, part in self._split(context, table).items()}
                payloads = {self.partition_key(context.asset_key, k): to_parquet(t) for k, t in rows.items()}
            else:
                payloads = {self.unpartitioned_key(context.asset_key): to_parquet(table)}
                rows = {None: table}
            for key, data in payloads.items():  # all serialized before any is written
                self.lake.put(key, data)
        else:
            raise TypeError(
                f"{name}: expected a pandas DataFrame, an Arrow table or PartitionedTables, got {type(obj).__name__}"
            )
        counts = {key: len(table) if isinstance(table, pa.Table) else table for key, table in rows.items()}
        metadata: dict[str, object] = {"dagster/row_count": sum(counts.values())}
        if isinstance(obj, PartitionedTables) and obj.summary is not None:
            metadata.update(obj.summary())
        if context.has_asset_partitions:
            # the run's size, named so on each partition's page: Dagster copies run-level metadata to every
            # partition's event, so a table of every partition's rows (or objects) here grew as the square of the
            # range; each partition carries its own below
            metadata["partitions_in_run"] = len(counts)
            own = obj.partition_summary() if isinstance(obj, PartitionedTables) and obj.partition_summary else {}
            add_partition_metadata(
                context,
                {
                    key: {
                        "dagster/row_count": n,
                        "lake_uri": self.lake.uri(self.partition_key(context.asset_key, key)),
                        **own.get(key, {}),
                    }
                    for key, n in counts.items()
                },
            )
        else:
            metadata["lake_uri"] = self.lake.uri(self.unpartitioned_key(context.asset_key))
        context.add_output_metadata(metadata)

    def _ordered_keys(self, context) -> list[str]:
        keys = list(context.asset_partition_keys)
        partitions_def = context.asset_partitions_def
        if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
            keys.sort(key=lambda k: partitions_def.time_window_for_partition_key(k).start)
        return keys

    def _write_stream(self, context: dg.OutputContext, stream: PartitionedTables) -> dict[str, int]:
        """Write each partition as it arrives (memory: one partition), then empty objects for the rest."""
        name = context.asset_key.to_user_string()
        partitions_def = context.asset_partitions_def
        partition_expr = context.definition_metadata.get("partition_expr")
        wanted = self._ordered_keys(context)
        counts: dict[str, int] = {}
        empty = to_parquet(arrow_schema(stream.columns).empty_table())  # one object for every empty partition
        for key, table in stream.parts:
            if key not in wanted:
                raise dg.DagsterInvariantViolationError(f"{name}: partition {key} is not part of this run")
            if len(table) == 0:
                self.lake.put(self.partition_key(context.asset_key, key), empty)
                counts[key] = 0
                continue
            table = to_arrow(table, stream.columns)
            if partition_expr:
                window = partitions_def.time_window_for_partition_key(key)
                check_rows_inside(table, f"{name} partition {key}", partition_expr, window.start, window.end)
            self.lake.put(self.partition_key(context.asset_key, key), to_parquet(table))
            counts[key] = len(table)
        for key in wanted:
            if key not in counts:
                self.lake.put(self.partition_key(context.asset_key, key), empty)
                counts[key] = 0
        return {key: counts[key] for key in wanted}

    def _split(self, context: dg.OutputContext, table: pa.Table) -> dict[str, pa.Table]:
        """One table per partition key of the output, by the time window each row's partition_expr falls in."""
        keys = self._ordered_keys(context)
        partition_expr = context.definition_metadata.get("partition_expr")
        name = context.asset_key.to_user_string()
        if partition_expr is None:
            if len(keys) == 1:
                return {keys[0]: table}
            raise dg.DagsterInvariantViolationError(
                f"{name}: a run over {len(keys)} partitions needs metadata={{'partition_expr': '<time column>'}} "
                "on the asset to split its rows by partition"
            )
        partitions_def = context.asset_partitions_def
        if not isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
            raise dg.DagsterInvariantViolationError(f"{name}: partition_expr needs time-window partitions")
        overall = context.asset_partitions_time_window
        check_rows_inside(table, name, partition_expr, overall.start, overall.end)
        parts = {}
        for key in keys:
            window = partitions_def.time_window_for_partition_key(key)
            parts[key] = rows_in_window(table, partition_expr, window.start, window.end)
        return parts

    @io_retries_logged("lake read of")
    def load_input(self, context: dg.InputContext):
        asset_key = context.asset_key
        name = asset_key.to_user_string()
        wanted = context.dagster_type.typing_type if context.dagster_type else None
        if not context.has_asset_partitions:
            keys = [self.unpartitioned_key(asset_key)]
        else:
            keys = [self.partition_key(asset_key, key) for key in self._ordered_keys(context)]
        if wanted is StagedParquet:
            present = {obj.key: obj.size for obj in self.lake.list(self._asset_path(asset_key))}
            missing = [key for key in keys if key not in present]
            if missing:
                raise LakeObjectNotFound(
                    f"{name} has not been materialized: no lake object {self.lake.uri(missing[0])}"
                )
            declared = declared_column_types(context.upstream_output.definition_metadata)
            first = from_parquet(self.lake.get(keys[0])).schema.empty_table()
            return StagedParquet(keys=keys, columns=columns_of(first, declared), sizes={k: present[k] for k in keys})
        labels = self._ordered_keys(context) if context.has_asset_partitions else [None]
        tables = [
            self._read(key, f"{name} partition {label}" if label else name)
            for key, label in zip(keys, labels, strict=True)
        ]
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        return table if wanted is pa.Table else to_pandas(table)

    def _read(self, key: str, what: str) -> pa.Table:
        try:
            return from_parquet(self.lake.get(key))
        except LakeObjectNotFound:
            raise LakeObjectNotFound(
                f"{what} has not been materialized: no lake object {self.lake.uri(key)} (key {key!r})"
            ) from None
