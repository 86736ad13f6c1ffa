"""IO managers: where asset values are stored and loaded from (lake Parquet, warehouse tables), and the API that
assets use beside them: the values they return, the audit log's rows, the step's attempt, each partition's own
metadata, an empty table created ahead of its first load, and a time as the warehouse compares it (naive UTC).
Code outside this package imports these names from here only."""

from medrobotics_dagster.io_managers.audit_log import AuditRecord, audit_failure, record_audit
from medrobotics_dagster.io_managers.frames import PartitionedTables, StagedParquet, naive_utc
from medrobotics_dagster.io_managers.lake_parquet_io_manager import LakeParquetIOManager
from medrobotics_dagster.io_managers.step_facts import add_partition_metadata, attempt_of, retries_logged
from medrobotics_dagster.io_managers.warehouse_io_manager import QUARANTINE_METADATA, WarehouseIOManager
from medrobotics_dagster.io_managers.warehouse_tables import TableTarget, create_if_missing

__all__ = [
    "QUARANTINE_METADATA",
    "AuditRecord",
    "LakeParquetIOManager",
    "PartitionedTables",
    "StagedParquet",
    "TableTarget",
    "WarehouseIOManager",
    "add_partition_metadata",
    "attempt_of",
    "retries_logged",
    "audit_failure",
    "create_if_missing",
    "naive_utc",
    "record_audit",
]
