"""Raw robot telemetry: newline-delimited JSON files landing in the lake, one per procedure and UTC day."""

import dagster as dg

from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster.raw_telemetry_paths import RAW_TELEMETRY_PREFIX

RAW_TELEMETRY_KEY = dg.AssetKey(["raw", "telemetry"])

raw_telemetry_spec = dg.AssetSpec(
    key=RAW_TELEMETRY_KEY,
    description=(
        "Telemetry files under raw/telemetry/procedure-<procedure_id>/<YYYYMMDD>.json[.gz], one partition per UTC day."
    ),
    group_name="sources",
    kinds={"s3", "json"},
    partitions_def=daily_partitions,
    metadata={"prefix": RAW_TELEMETRY_PREFIX},
)
