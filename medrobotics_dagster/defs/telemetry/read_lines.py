"""The slow path: a file Arrow refused, read line by line into the flat table, so that its good lines still load
and each bad line is refused with its line number and the first reason found."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import orjson
import pyarrow as pa

from medrobotics_dagster.defs.telemetry.flat_samples import (
    EXPECTED,
    FLAT_SCHEMA,
    INT32_MAX,
    MEASUREMENT_KINDS,
    is_known_object,
)
from medrobotics_dagster.defs.telemetry.schema import IDENTITY_FIELDS


def json_kind_ok(kind: str, value) -> bool:
    """Whether a JSON value is of the kind its column holds (a whole float counts as an integer)."""
    if kind == "numeric":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "varchar":
        return isinstance(value, str)
    return isinstance(value, bool)


def measurement(path: str, value) -> tuple[object, str | None]:
    """(the value as its flat column holds it, None), or (None, the reason it is refused)."""
    kind = MEASUREMENT_KINDS[path].kind
    if value is None:
        return None, None
    if not json_kind_ok(kind, value):
        return None, f"{path}: expected {EXPECTED[kind]}, got {type(value).__name__} {str(value)[:40]!r}"
    if kind != "integer":
        return value, None
    if abs(value) > INT32_MAX:
        return None, f"{path} {value} does not fit INTEGER"
    return int(value), None


@dataclass
class FlatLine:
    """One JSON object being flattened: its known fields by dotted path and its unknown ones (each counted in the
    day's `unknown_counter` as it is met)."""

    unknown_counter: Counter
    row: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def add(self, path: str, value) -> str | None:
        """Take one field (an object's fields one by one); the reason the line is refused, or None."""
        if path in IDENTITY_FIELDS:
            self.row[path] = value
            if value is not None and not isinstance(value, str):
                return f"{path}: expected a string, got {type(value).__name__}"
            return None
        if path in MEASUREMENT_KINDS:
            self.row[path], problem = measurement(path, value)
            return problem
        if is_known_object(path):
            return self._add_object(path, value)
        self.extra[path] = value
        self.unknown_counter[path] += 1
        return None

    def _add_object(self, path: str, value) -> str | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            return f"{path}: expected an object, got {type(value).__name__}"
        for key, child in value.items():
            problem = self.add(f"{path}.{key}", child)
            if problem:
                return problem
        return None


def parse_line(line: bytes, unknown_counter: Counter) -> tuple[dict | None, str | None]:
    """(flat row, None) for a good line, (None, reason) for a bad one."""
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return None, f"invalid JSON: {str(exc).split(':')[0]}"
    if not isinstance(document, dict):
        return None, f"line is a JSON {type(document).__name__}, not an object"
    flat = FlatLine(unknown_counter)
    for key, value in document.items():
        problem = flat.add(key, value)
        if problem:
            return None, problem
    if flat.extra:
        flat.row["extra_fields"] = orjson.dumps(flat.extra).decode()
    return flat.row, None


def read_lines(body: bytes, index: int, unknown_counter: Counter) -> tuple[pa.Table, list[tuple[int, str, bytes]]]:
    """The flat rows of a file's good lines (`index`: the file's in the day), and (line number, reason, line) of
    each bad one. A blank line carries no sample and no error."""
    rows, refused = [], []
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        row, problem = parse_line(line, unknown_counter)
        if problem:
            refused.append((number, problem, line))
        else:
            row["source_index"], row["line_number"] = index, number
            rows.append(row)
    return pa.Table.from_pylist(rows, schema=FLAT_SCHEMA), refused
