"""Pandas DataFrames as Parquet in the lake: one object per daily partition under `staging/`."""

from typing import Sequence

import dagster as dg
import pandas as pd
from pydantic import Field

from medrobotics_dagster.io_managers.frames import check_rows_inside, from_parquet, to_parquet
from medrobotics_dagster.resources.lake import Lake, LakeObjectNotFound

PART_NAME = "part-0.parquet"


class LakeParquetIOManager(dg.ConfigurableIOManager):
    """Stores DataFrames as `<prefix>/<asset key>/dt=<day>/part-0.parquet` (partitioned) or `<prefix>/<asset key>.parquet`.

    A partition range arrives as one DataFrame and is split by the UTC time in the column named by
    the asset's `partition_expr` metadata; every partition of the range gets an object, empty or not.
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

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"{context.asset_key.to_user_string()}: expected a pandas DataFrame, got {type(obj).__name__}")
        if context.has_asset_partitions:
            parts = self._split(context, obj)
            objects = {self.partition_key(context.asset_key, key): frame for key, frame in parts.items()}
        else:
            objects = {self.unpartitioned_key(context.asset_key): obj}
        payloads = {key: to_parquet(frame) for key, frame in objects.items()}  # serialize all before writing any
        for key, data in payloads.items():
            self.lake.put(key, data)
        metadata: dict[str, object] = {
            "dagster/row_count": len(obj),
            "lake_uris": dg.MetadataValue.json([self.lake.uri(key) for key in payloads]),
        }
        if context.has_asset_partitions:
            metadata["partition_count"] = len(parts)
            if len(parts) > 1:
                metadata["rows_per_partition"] = dg.MetadataValue.json({key: len(f) for key, f in parts.items()})
        context.add_output_metadata(metadata)

    def _split(self, context: dg.OutputContext, obj: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """One frame per partition key of the output, by the time window each row's partition_expr falls in."""
        keys = list(context.asset_partition_keys)
        partition_expr = context.definition_metadata.get("partition_expr")
        name = context.asset_key.to_user_string()
        if partition_expr is None:
            if len(keys) == 1:
                return {keys[0]: obj}
            raise dg.DagsterInvariantViolationError(
                f"{name}: a run over {len(keys)} partitions needs metadata={{'partition_expr': '<time column>'}} "
                "on the asset to split its rows by partition"
            )
        partitions_def = context.asset_partitions_def
        if not isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
            raise dg.DagsterInvariantViolationError(f"{name}: partition_expr needs time-window partitions")
        overall = context.asset_partitions_time_window
        times = check_rows_inside(obj, name, partition_expr, overall.start, overall.end)
        parts = {}
        for key in sorted(keys, key=lambda k: partitions_def.time_window_for_partition_key(k).start):
            window = partitions_def.time_window_for_partition_key(key)
            inside = (times >= pd.Timestamp(window.start)) & (times < pd.Timestamp(window.end))
            parts[key] = obj[inside].reset_index(drop=True)
        return parts

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        asset_key = context.asset_key
        if not context.has_asset_partitions:
            return self._read(self.unpartitioned_key(asset_key), asset_key.to_user_string())
        keys: Sequence[str] = context.asset_partition_keys
        partitions_def = context.asset_partitions_def
        if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
            keys = sorted(keys, key=lambda k: partitions_def.time_window_for_partition_key(k).start)
        name = asset_key.to_user_string()
        frames = [self._read(self.partition_key(asset_key, key), f"{name} partition {key}") for key in keys]
        if len(frames) == 1:
            return frames[0]
        non_empty = [frame for frame in frames if len(frame)] or frames[:1]
        return pd.concat(non_empty, ignore_index=True)

    def _read(self, key: str, what: str) -> pd.DataFrame:
        try:
            return from_parquet(self.lake.get(key))
        except LakeObjectNotFound:
            raise LakeObjectNotFound(
                f"{what} has not been materialized: no lake object {self.lake.uri(key)} (key {key!r})"
            ) from None
