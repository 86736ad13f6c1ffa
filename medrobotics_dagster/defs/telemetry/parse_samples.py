"""One UTC day of raw telemetry files -> the typed rows of fact_procedure_telemetry, and every rejected line.

Fast path: the day's files are read by Arrow's JSON reader in one call with an explicit schema. A file the
reader refuses (invalid JSON, a known field of another type, a blank line) is read again line by line, so its
good lines still load and each bad line is quarantined with its line number. The checks that follow are
vectorized and shared by both paths: required fields, timestamps inside the file's day, known procedures,
values that fit their DECIMAL/VARCHAR columns, unknown fields that fit extra_fields, and duplicate samples.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from medrobotics_dagster.column_types import JSON_TEXT_MAX_BYTES, arrow_schema
from medrobotics_dagster.defs.telemetry.raw_files import RawFile, UnreadableFile, decompress
from medrobotics_dagster.defs.telemetry.schema import (
    FACT_COLUMNS,
    IDENTITY_FIELDS,
    KNOWN_PATHS,
    MEASUREMENTS,
    RAW_LINE_MAX_CHARS,
    REQUIRED_FIELDS,
)

FACT_SCHEMA = arrow_schema(FACT_COLUMNS)
_JSON_TYPE = {"numeric": pa.float64(), "integer": pa.int64(), "varchar": pa.string(), "boolean": pa.bool_()}


def _raw_schema() -> pa.Schema:
    """The JSON reader's explicit schema: the contract's nested objects with JSON-level types."""
    top: dict[str, pa.DataType] = {name: pa.string() for name in IDENTITY_FIELDS}
    nested: dict[str, list[pa.Field]] = {}
    for path, _, kind in MEASUREMENTS:
        json_type = _JSON_TYPE[kind.kind]
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
    + [pa.field(path, _JSON_TYPE[kind.kind]) for path, _, kind in MEASUREMENTS]
    + [pa.field("extra_fields", pa.string()), pa.field("source_index", pa.int32()), pa.field("line_number", pa.int32())]
)
_MEASUREMENT_PATHS = {path: kind for path, _, kind in MEASUREMENTS}
_KNOWN_OBJECTS = frozenset(path.rsplit(".", 1)[0] for path in KNOWN_PATHS if "." in path)
INT32_MAX = 2**31 - 1
_EXPECTED = {"numeric": "a number", "integer": "an integer", "varchar": "a string", "boolean": "a boolean"}


def _is_known_object(path: str) -> bool:
    """Whether the contract has fields below this path (arm_position, tool, camera, system)."""
    return path in _KNOWN_OBJECTS


@dataclass(frozen=True)
class ProcedureInfo:
    """What a sample needs from its procedure: the fact's key and the facility's IANA time zone."""

    procedure_key: int
    time_zone: str = "UTC"


@dataclass
class Rejected:
    source_key: str
    line_number: int  # 0: the file as a whole
    reason: str
    raw_line: str | None


@dataclass
class DayResult:
    samples: pa.Table
    rejected: list[Rejected] = field(default_factory=list)
    lines_read: int = 0
    files_read: int = 0
    unknown_fields: Counter = field(default_factory=Counter)


def clean_text(raw: bytes | str | None) -> str | None:
    """Raw text fit for a VARCHAR: valid UTF-8, no NUL bytes, cut to RAW_LINE_MAX_CHARS."""
    if raw is None:
        return None
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return text.replace("\x00", "\\0")[:RAW_LINE_MAX_CHARS]


# ---------------------------------------------------------------------------------------------- fast path


def _flatten_arrow(table: pa.Table) -> tuple[dict[str, pa.ChunkedArray], list[str]]:
    """Columns by dotted path, and the dotted paths the contract does not know."""
    columns: dict[str, pa.ChunkedArray] = {}
    unknown: list[str] = []

    def walk(prefix: str, array: pa.ChunkedArray) -> None:
        if pa.types.is_struct(array.type) and _is_known_object(prefix):
            for index in range(array.type.num_fields):
                child = array.type.field(index)
                walk(f"{prefix}.{child.name}", pc.struct_field(array, [index]))
            return
        if prefix in KNOWN_PATHS:
            columns[prefix] = array
        else:
            unknown.append(prefix)
            columns[prefix] = array

    for name in table.column_names:
        walk(name, table.column(name))
    return columns, unknown


def _extra_json(columns: Mapping[str, pa.ChunkedArray], unknown: Sequence[str], rows: int) -> pa.Array:
    """Per row, a JSON object of the unknown fields it carries (null when none)."""
    if not unknown:
        return pa.nulls(rows, pa.string())
    values = {path: columns[path].to_pylist() for path in unknown}
    out: list[str | None] = []
    for i in range(rows):
        extra = {path: values[path][i] for path in unknown if values[path][i] is not None}
        out.append(orjson.dumps(extra).decode() if extra else None)
    return pa.array(out, pa.string())


def _read_fast(bodies: Sequence[bytes]) -> pa.Table:
    """Arrow's JSON reader over several newline-terminated bodies at once; raises if any line is refused."""
    data = b"".join(bodies)
    options = pa_json.ParseOptions(explicit_schema=RAW_SCHEMA, unexpected_field_behavior="infer")
    return pa_json.read_json(
        io.BytesIO(data),
        read_options=pa_json.ReadOptions(block_size=max(1 << 20, len(data) + 1)),
        parse_options=options,
    )


def _fast_flat(
    bodies: Sequence[bytes], indexes: Sequence[int], line_counts: Sequence[int], unknown_counter: Counter
) -> pa.Table:
    table = _read_fast(bodies)
    if table.num_rows != sum(line_counts):  # the reader skips blank lines: line numbers would drift
        raise ValueError("blank lines")
    table.validate(full=True)  # Arrow's reader lets invalid UTF-8 inside strings through; such files go line by line
    columns, unknown = _flatten_arrow(table)
    for path in unknown:
        unknown_counter[path] += table.num_rows - columns[path].null_count
    arrays = [
        columns[name] if name in columns else pa.nulls(table.num_rows, FLAT_SCHEMA.field(name).type)
        for name in FLAT_SCHEMA.names[: len(IDENTITY_FIELDS) + len(MEASUREMENTS)]
    ]
    arrays.append(_extra_json(columns, unknown, table.num_rows))
    arrays.append(pa.array(np.repeat(np.asarray(indexes, dtype=np.int32), line_counts), pa.int32()))
    arrays.append(
        pa.array(
            np.concatenate([np.arange(1, n + 1, dtype=np.int32) for n in line_counts]) if line_counts else [],
            pa.int32(),
        )
    )
    return pa.Table.from_arrays(
        [pa.chunked_array(a) if not isinstance(a, pa.ChunkedArray) else a for a in arrays], schema=FLAT_SCHEMA
    )


# ---------------------------------------------------------------------------------------------- slow path


def _json_kind_ok(kind: str, value) -> bool:
    if kind == "numeric":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "varchar":
        return isinstance(value, str)
    return isinstance(value, bool)


def _parse_line(line: bytes, unknown_counter: Counter) -> tuple[dict | None, str | None]:
    """(flat row, None) for a good line, (None, reason) for a bad one."""
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return None, f"invalid JSON: {str(exc).split(':')[0]}"
    if not isinstance(document, dict):
        return None, f"line is a JSON {type(document).__name__}, not an object"
    row: dict = {}
    extra: dict = {}

    def walk(prefix: str, value) -> str | None:
        if prefix in IDENTITY_FIELDS:
            if value is not None and not isinstance(value, str):
                return f"{prefix}: expected a string, got {type(value).__name__}"
            row[prefix] = value
        elif prefix in _MEASUREMENT_PATHS:
            kind = _MEASUREMENT_PATHS[prefix].kind
            if value is not None and not _json_kind_ok(kind, value):
                return f"{prefix}: expected {_EXPECTED[kind]}, got {type(value).__name__} {str(value)[:40]!r}"
            if kind == "integer" and value is not None:
                if abs(value) > INT32_MAX:
                    return f"{prefix} {value} does not fit INTEGER"
                value = int(value)
            row[prefix] = value
        elif _is_known_object(prefix):
            if value is None:
                return None
            if not isinstance(value, dict):
                return f"{prefix}: expected an object, got {type(value).__name__}"
            for key, child in value.items():
                problem = walk(f"{prefix}.{key}", child)
                if problem:
                    return problem
        else:
            extra[prefix] = value
            unknown_counter[prefix] += 1
        return None

    for key, value in document.items():
        problem = walk(key, value)
        if problem:
            return None, problem
    if extra:
        row["extra_fields"] = orjson.dumps(extra).decode()
    return row, None


def _slow_flat(raw: RawFile, body: bytes, index: int, rejected: list[Rejected], unknown_counter: Counter) -> pa.Table:
    rows = []
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue  # a blank line carries no sample
        row, problem = _parse_line(line, unknown_counter)
        if problem:
            rejected.append(Rejected(raw.key, number, problem, clean_text(line)))
        else:
            row["source_index"], row["line_number"] = index, number
            rows.append(row)
    return pa.Table.from_pylist(rows, schema=FLAT_SCHEMA)


# ---------------------------------------------------------------------------------------------- shared checks


def _parse_timestamps(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO-8601 text (with Z or an offset; without one taken as UTC) -> naive UTC microseconds; null if unparseable."""
    try:
        return text.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
    except pa.ArrowInvalid:
        out = []
        for value in text.to_pylist():
            try:
                stamp = datetime.fromisoformat(value) if value is not None else None
            except ValueError:
                stamp = None
            if stamp is not None and stamp.tzinfo is not None:
                stamp = stamp.astimezone(UTC).replace(tzinfo=None)
            out.append(stamp)
        return pa.chunked_array([pa.array(out, pa.timestamp("us"))])


def _reasons(
    flat: pa.Table, files: Sequence[RawFile], day: date, procedures: Mapping[str, ProcedureInfo], stamps
) -> list[str | None]:
    """The first reason each row is refused for, or None."""
    n = flat.num_rows
    reasons: list[str | None] = [None] * n

    def mark(mask, reason_of) -> None:
        mask = pc.fill_null(mask, False)
        for i in np.flatnonzero(mask.to_numpy(zero_copy_only=False)):
            if reasons[i] is None:
                reasons[i] = reason_of(int(i))

    for name in REQUIRED_FIELDS:
        mark(pc.is_null(flat.column(name)), lambda i, name=name: f"missing required field {name}")
    text = flat.column("sample_timestamp")
    mark(
        pc.and_(pc.is_valid(text), pc.is_null(stamps)),
        lambda i: f"sample_timestamp {text[i].as_py()!r} is not an ISO-8601 timestamp",
    )
    start = pa.scalar(datetime(day.year, day.month, day.day), pa.timestamp("us"))
    end = pa.scalar(datetime(day.year, day.month, day.day) + timedelta(days=1), pa.timestamp("us"))
    mark(
        pc.or_(pc.less(stamps, start), pc.greater_equal(stamps, end)),
        lambda i: f"sample_timestamp {text[i].as_py()} is outside the file's day {day.isoformat()}",
    )
    pids = flat.column("procedure_id")
    key_pids = pa.array([raw.procedure_id for raw in files], pa.string()).take(flat.column("source_index"))
    mark(
        pc.not_equal(pids, key_pids),
        lambda i: f"procedure_id {pids[i].as_py()!r} differs from the file key's {key_pids[i].as_py()!r}",
    )
    known = pa.array(list(procedures), pa.string())
    mark(
        pc.invert(pc.is_in(pids, value_set=known)),
        lambda i: (
            f"unknown procedure_id {pids[i].as_py()!r} (no such procedure extracted for this day or the day before)"
        ),
    )
    for path, _, kind in MEASUREMENTS:
        values = flat.column(path)
        if kind.kind == "numeric":
            limit = 10.0 ** (kind.precision - kind.scale)
            mark(
                pc.greater_equal(pc.abs(pc.round(values, kind.scale)), limit),
                lambda i, p=path, k=kind, v=values: f"{p} {v[i].as_py()} does not fit DECIMAL({k.precision},{k.scale})",
            )
            mark(pc.invert(pc.is_finite(values)), lambda i, p=path: f"{p} is not a finite number")
        elif kind.kind == "integer":
            mark(
                pc.greater(pc.abs(values), INT32_MAX),
                lambda i, p=path, v=values: f"{p} {v[i].as_py()} does not fit INTEGER",
            )
        elif kind.kind == "varchar":
            mark(
                pc.greater(pc.utf8_length(values), kind.length),
                lambda i, p=path, k=kind: f"{p} is longer than {k.length} characters",
            )
    for name in ("procedure_id", "robot_id", "tool.type"):
        mark(pc.match_substring(flat.column(name), "\x00"), lambda i, n=name: f"{n} contains a NUL character")
    mark(pc.greater(pc.utf8_length(pids), 100), lambda i: "procedure_id is longer than 100 characters")
    robots = flat.column("robot_id")
    mark(pc.greater(pc.utf8_length(robots), 50), lambda i: "robot_id is longer than 50 characters")
    extra = flat.column("extra_fields")
    mark(
        pc.greater(pc.binary_length(extra), JSON_TEXT_MAX_BYTES),
        lambda i: (
            f"unknown fields take {len(extra[i].as_py().encode())} bytes as JSON, "
            f"more than extra_fields holds ({JSON_TEXT_MAX_BYTES})"
        ),
    )
    # Duplicates among the rows that pass every other check: the first (in key order, then line order) wins,
    # so a corrected resend of a rejected sample still loads.
    order = pa.array(np.arange(n, dtype=np.int64))
    good = pa.array([reason is None for reason in reasons])
    keyed = pa.table({"p": pids, "t": stamps, "i": order}).filter(good)
    firsts = keyed.group_by(["p", "t"], use_threads=False).aggregate([("i", "min")]).column("i_min")
    first_of = {}
    duplicate = pc.and_(good, pc.invert(pc.is_in(order, value_set=firsts)))
    if pc.any(duplicate).as_py():
        for p, t, i, ok in zip(pids.to_pylist(), stamps.to_pylist(), range(n), good.to_pylist()):
            if ok:
                first_of.setdefault((p, t), i)

        def where(i: int) -> str:
            j = first_of[(pids[i].as_py(), stamps[i].as_py())]
            return f"duplicate sample: same procedure_id and sample_timestamp as {files[flat.column('source_index')[j].as_py()].key} line {flat.column('line_number')[j].as_py()}"

        mark(duplicate, where)
    return reasons


# ---------------------------------------------------------------------------------------------- keys


def _splitmix64(values: np.ndarray) -> np.ndarray:
    z = values.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def telemetry_keys(procedure_keys: np.ndarray, stamps_us: np.ndarray) -> np.ndarray:
    """A stable positive BIGINT per (procedure, sample time): re-loads never renumber samples."""
    with np.errstate(over="ignore"):
        mixed = _splitmix64(_splitmix64(procedure_keys.astype(np.uint64)) ^ stamps_us.astype(np.uint64))
    return (mixed >> np.uint64(1)).astype(np.int64)


def local_time_keys(stamps: pa.ChunkedArray, zones: pa.ChunkedArray) -> pa.Array:
    """dim_time keys (hour*10000 + minute*100) of each sample in its facility's local time."""
    result = np.zeros(len(stamps), dtype=np.int32)
    zone_values = zones.to_numpy(zero_copy_only=False)
    for zone in set(zone_values.tolist()):
        mask = zone_values == zone
        part = stamps.filter(pa.array(mask))
        local = (
            pc.local_timestamp(part.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us", tz=zone)))
            if zone != "UTC"
            else part
        )
        keys = pc.add(pc.multiply(pc.hour(local), 10000), pc.multiply(pc.minute(local), 100))
        result[mask] = keys.to_numpy(zero_copy_only=False)
    return pa.array(result, pa.int32())


# ---------------------------------------------------------------------------------------------- the day


def count_lines(body: bytes) -> int:
    """Lines that carry something (a blank line is no sample and no error)."""
    # Substring tests run at memchr speed; only a body that may hold a blank line is split.
    if body.startswith((b"\n", b" ", b"\t", b"\r")) or any(
        mark in body for mark in (b"\n\n", b"\n ", b"\n\t", b"\n\r", b" \n", b"\t\n")
    ):
        return sum(1 for line in body.split(b"\n") if line.strip())
    return body.count(b"\n")


def parse_day(
    day: date,
    files: Sequence[tuple[RawFile, bytes]],
    procedures: Mapping[str, ProcedureInfo],
    loaded_at: datetime,
) -> DayResult:
    """The fact rows and the rejected lines of one day's files (each given with its bytes as stored)."""
    result = DayResult(samples=FACT_SCHEMA.empty_table(), files_read=len(files))
    files = sorted(files, key=lambda item: item[0].key)
    raws = [raw for raw, _ in files]
    bodies: list[bytes | None] = []
    for raw, stored in files:
        try:
            body = decompress(raw, stored)
        except UnreadableFile as exc:
            result.rejected.append(Rejected(raw.key, 0, str(exc), clean_text(stored[:RAW_LINE_MAX_CHARS])))
            bodies.append(None)
            continue
        bodies.append(body if not body or body.endswith(b"\n") else body + b"\n")
    result.lines_read = sum(count_lines(body) for body in bodies if body)
    flats = _flat_tables(raws, bodies, result)
    flat = pa.concat_tables(flats) if flats else FLAT_SCHEMA.empty_table()
    if flat.num_rows == 0:
        return result
    stamps = _parse_timestamps(flat.column("sample_timestamp"))
    reasons = _reasons(flat, raws, day, procedures, stamps)
    bad = [i for i, reason in enumerate(reasons) if reason is not None]
    if bad:
        lines_of: dict[int, list[bytes]] = {}
        for i in bad:
            index, number = flat.column("source_index")[i].as_py(), flat.column("line_number")[i].as_py()
            lines = lines_of.setdefault(index, bodies[index].split(b"\n"))
            result.rejected.append(Rejected(raws[index].key, number, reasons[i], clean_text(lines[number - 1])))
        keep = pa.array([reason is None for reason in reasons])
        flat, stamps = flat.filter(keep), stamps.filter(keep)
    result.samples = _fact_rows(flat, stamps, procedures, loaded_at)
    return result


def _flat_tables(raws: Sequence[RawFile], bodies: Sequence[bytes | None], result: DayResult) -> list[pa.Table]:
    """Flat tables of every readable file: all at once when Arrow accepts them, else file by file."""
    readable = [i for i, body in enumerate(bodies) if body]
    if not readable:
        return []
    counts = [bodies[i].count(b"\n") for i in readable]
    try:
        return [_fast_flat([bodies[i] for i in readable], readable, counts, result.unknown_fields)]
    except (pa.ArrowInvalid, ValueError):
        pass
    tables = []
    for i, count in zip(readable, counts):
        try:
            tables.append(_fast_flat([bodies[i]], [i], [count], result.unknown_fields))
        except (pa.ArrowInvalid, ValueError):
            tables.append(_slow_flat(raws[i], bodies[i], i, result.rejected, result.unknown_fields))
    return tables


def _fact_rows(
    flat: pa.Table, stamps: pa.ChunkedArray, procedures: Mapping[str, ProcedureInfo], loaded_at: datetime
) -> pa.Table:
    pids = flat.column("procedure_id")
    known = list(procedures)
    positions = pc.index_in(pids, value_set=pa.array(known, pa.string()))
    procedure_keys = pa.array([procedures[p].procedure_key for p in known], pa.int64()).take(positions)
    zones = pa.array([procedures[p].time_zone for p in known], pa.string()).take(positions)
    micros = stamps.cast(pa.int64()).to_numpy(zero_copy_only=False)
    columns = {
        "telemetry_key": pa.array(telemetry_keys(procedure_keys.to_numpy(zero_copy_only=False), micros)),
        "procedure_key": procedure_keys,
        "timestamp_key": local_time_keys(stamps, zones),
        "sample_timestamp": stamps,
    }
    for path, name, kind in MEASUREMENTS:
        values = flat.column(path)
        columns[name] = (
            pc.round(values, kind.scale).cast(kind.arrow()) if kind.kind == "numeric" else values.cast(kind.arrow())
        )
    columns["procedure_id"] = pids
    columns["robot_id"] = flat.column("robot_id")
    columns["extra_fields"] = flat.column("extra_fields")
    columns["created_at"] = pa.array(
        np.full(flat.num_rows, np.datetime64(loaded_at.replace(tzinfo=None), "us")), pa.timestamp("us")
    )
    arrays = [columns[f.name] for f in FACT_SCHEMA]
    return pa.Table.from_arrays(
        [a if isinstance(a, pa.ChunkedArray) else pa.chunked_array([a]) for a in arrays], schema=FACT_SCHEMA
    )
