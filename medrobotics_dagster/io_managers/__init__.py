"""IO managers: where asset values are stored and loaded from (lake Parquet, warehouse tables)."""

from medrobotics_dagster.io_managers.lake_parquet_io_manager import LakeParquetIOManager

__all__ = ["LakeParquetIOManager"]
