"""Columns of the telemetry fact and its quarantine (docs/star-schema.md), and the JSON fields they come from."""

from __future__ import annotations

from medrobotics_dagster import column_types as t
from medrobotics_dagster.column_types import Column

# (JSON path in a raw line, fact column, type). Order is the fact's column order after the keys.
MEASUREMENTS: list[tuple[str, str, t.ColumnType]] = [
    ("arm_position.x", "arm_position_x", t.numeric(10, 4)),
    ("arm_position.y", "arm_position_y", t.numeric(10, 4)),
    ("arm_position.z", "arm_position_z", t.numeric(10, 4)),
    ("arm_rotation.x", "arm_rotation_x", t.numeric(10, 4)),
    ("arm_rotation.y", "arm_rotation_y", t.numeric(10, 4)),
    ("arm_rotation.z", "arm_rotation_z", t.numeric(10, 4)),
    ("force_feedback", "force_feedback", t.numeric(10, 4)),
    ("tool.type", "tool_type", t.varchar(100)),
    ("tool.active", "tool_active", t.boolean()),
    ("camera.zoom", "camera_zoom", t.numeric(5, 2)),
    ("camera.lighting_level", "lighting_level", t.integer()),
    ("system.temperature", "system_temperature", t.numeric(5, 2)),
    ("system.motor_current", "motor_current", t.numeric(8, 4)),
    ("system.network_latency_ms", "network_latency_ms", t.integer()),
    ("system.video_fps", "video_fps", t.integer()),
]
# Fields every line must have; the measurements may be absent (a sensor that did not report).
REQUIRED_FIELDS = ("procedure_id", "sample_timestamp")
IDENTITY_FIELDS = ("procedure_id", "robot_id", "sample_timestamp")
KNOWN_PATHS = frozenset([*IDENTITY_FIELDS, *(path for path, _, _ in MEASUREMENTS)])

FACT_COLUMNS: list[Column] = [
    Column("telemetry_key", t.bigint(), nullable=False),
    Column("procedure_key", t.bigint(), nullable=False),
    Column("timestamp_key", t.integer(), nullable=False),
    Column("sample_timestamp", t.timestamp(), nullable=False),
    *(Column(name, kind) for _, name, kind in MEASUREMENTS),
    Column("procedure_id", t.varchar(100), nullable=False),
    Column("robot_id", t.varchar(50)),
    Column("extra_fields", t.json()),
    Column("created_at", t.timestamp(), nullable=False),
]
# The fact's Redshift layout: a procedure's samples on one slice, in time order.
FACT_DISTKEY = "procedure_key"
FACT_SORTKEY = ("procedure_key", "sample_timestamp")

RAW_LINE_MAX_CHARS = 1000

QUARANTINE_COLUMNS: list[Column] = [
    Column("partition_start", t.timestamp(), nullable=False),
    Column("load_id", t.varchar(36), nullable=False),
    Column("source_key", t.varchar(1024), nullable=False),
    Column("line_number", t.integer(), nullable=False),
    Column("reason", t.varchar(500), nullable=False),
    Column("raw_line", t.varchar(RAW_LINE_MAX_CHARS)),
    Column("quarantined_at", t.timestamp(), nullable=False),
]


def varchar_length(columns: list[Column], name: str) -> int:
    """The declared length of a VARCHAR column: text longer than this is refused, or cut to it."""
    return next(c.type.length for c in columns if c.name == name)
