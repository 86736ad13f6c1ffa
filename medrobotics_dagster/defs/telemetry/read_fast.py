"""The fast path: a day's files read by Arrow's JSON reader in one call, with the contract's explicit schema,
into the flat table. It refuses a whole batch for one bad line (invalid JSON, a known field of another type, a
blank line); such files are read again line by line (`read_lines`)."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from medrobotics_dagster.defs.telemetry.flat_samples import FLAT_SCHEMA, RAW_SCHEMA, is_known_object
from medrobotics_dagster.defs.telemetry.schema import IDENTITY_FIELDS, KNOWN_PATHS, MEASUREMENTS


def _flatten_arrow(table: pa.Table) -> tuple[dict[str, pa.ChunkedArray], list[str]]:
    """Columns by dotted path, and the dotted paths the contract does not know."""
    columns: dict[str, pa.ChunkedArray] = {}
    unknown: list[str] = []

    def walk(prefix: str, array: pa.ChunkedArray) -> None:
        if pa.types.is_struct(array.type) and is_known_object(prefix):
            for index in range(array.type.num_fields):
                child = array.type.field(index)
                walk(f"{prefix}.{child.name}", pc.struct_field(array, [index]))
            return
        if prefix not in KNOWN_PATHS:
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


def _read_json(bodies: Sequence[bytes]) -> pa.Table:
    """Arrow's JSON reader over several newline-terminated bodies at once; raises if any line is refused."""
    data = b"".join(bodies)
    options = pa_json.ParseOptions(explicit_schema=RAW_SCHEMA, unexpected_field_behavior="infer")
    return pa_json.read_json(
        io.BytesIO(data),
        read_options=pa_json.ReadOptions(block_size=max(1 << 20, len(data) + 1)),
        parse_options=options,
    )


def read_fast(
    bodies: Sequence[bytes], indexes: Sequence[int], line_counts: Sequence[int], unknown_counter: Counter
) -> pa.Table:
    """The flat table of whole files (their indexes in the day, their line counts); raises pa.ArrowInvalid or
    ValueError when Arrow refuses any of their lines."""
    table = _read_json(bodies)
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
