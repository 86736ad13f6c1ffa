"""The flat table a day's raw lines become before they are checked: one column per contract field (by dotted
path, in JSON's own types), the unknown fields of each line as one JSON text, and where each row came from (the
file's index in the day, the line's number)."""

from __future__ import annotations

import pyarrow as pa

from medrobotics_dagster.defs.telemetry.schema import IDENTITY_FIELDS, KNOWN_PATHS, MEASUREMENTS

JSON_TYPE = {"numeric": pa.float64(), "integer": pa.int64(), "varchar": pa.string(), "boolean": pa.bool_()}
EXPECTED = {"numeric": "a number", "integer": "an integer", "varchar": "a string", "boolean": "a boolean"}
INT32_MAX = 2**31 - 1
MEASUREMENT_KINDS = {path: kind for path, _, kind in MEASUREMENTS}
_KNOWN_OBJECTS = frozenset(path.rsplit(".", 1)[0] for path in KNOWN_PATHS if "." in path)


def is_known_object(path: str) -> bool:
    """Whether the contract has fields below this path (arm_position, tool, camera, system)."""
    return path in _KNOWN_OBJECTS


def _raw_schema() -> pa.Schema:
    """The JSON reader's explicit schema: the contract's nested objects with JSON-level types."""
    top: dict[str, pa.DataType] = {name: pa.string() for name in IDENTITY_FIELDS}
    nested: dict[str, list[pa.Field]] = {}
    for path, _, kind in MEASUREMENTS:
        json_type = JSON_TYPE[kind.kind]
        if "." in path:
            parent, child = path.split(".", 1)
            nested.setdefault(parent, []).append(pa.field(child, json_type))
        else:
            top[path] = json_type
    fields = [pa.field(name, t) for name, t in top.items()]
    fields += [pa.field(parent, pa.struct(children)) for parent, children in nested.items()]
    return pa.schema(fields)


RAW_SCHEMA = _raw_schema()
# The flat table both paths produce before the shared checks.
FLAT_SCHEMA = pa.schema(
    [pa.field(name, pa.string()) for name in IDENTITY_FIELDS]
    + [pa.field(path, JSON_TYPE[kind.kind]) for path, _, kind in MEASUREMENTS]
    + [pa.field("extra_fields", pa.string()), pa.field("source_index", pa.int32()), pa.field("line_number", pa.int32())]
)
