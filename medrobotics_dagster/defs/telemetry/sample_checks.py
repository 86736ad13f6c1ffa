"""The checks every flat row passes before it is a fact row, vectorized and shared by both read paths: required
fields, timestamps inside the file's day, known procedures, values that fit their DECIMAL/INTEGER/VARCHAR columns,
unknown fields that fit extra_fields, and no duplicate samples. Each refused row gets the first reason found."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medrobotics_dagster.column_types import JSON_TEXT_MAX_BYTES
from medrobotics_dagster.defs.telemetry.flat_samples import INT32_MAX
from medrobotics_dagster.defs.telemetry.raw_files import RawFile
from medrobotics_dagster.defs.telemetry.schema import FACT_COLUMNS, MEASUREMENTS, REQUIRED_FIELDS, varchar_length

# Text fields a NUL character would corrupt on their way into the warehouse.
NUL_CHECKED = ("procedure_id", "robot_id", "tool.type")
# Identity fields kept as they are: longer than their fact column, they are refused rather than cut.
LENGTH_CHECKED = ("procedure_id", "robot_id")


def parse_timestamps(text: pa.ChunkedArray) -> pa.ChunkedArray:
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


class Reasons:
    """The first reason each row is refused for (None: kept so far), filled in check by check."""

    def __init__(self, rows: int):
        self.of: list[str | None] = [None] * rows

    def mark(self, mask, reason_of: Callable[[int], str]) -> None:
        """Refuse the rows where `mask` holds (null: does not), unless an earlier check already did."""
        mask = pc.fill_null(mask, False)
        for i in np.flatnonzero(mask.to_numpy(zero_copy_only=False)):
            if self.of[i] is None:
                self.of[i] = reason_of(int(i))


def _check_required_and_times(reasons: Reasons, flat: pa.Table, stamps, day: date) -> None:
    for name in REQUIRED_FIELDS:
        reasons.mark(pc.is_null(flat.column(name)), lambda i, name=name: f"missing required field {name}")
    text = flat.column("sample_timestamp")
    reasons.mark(
        pc.and_(pc.is_valid(text), pc.is_null(stamps)),
        lambda i: f"sample_timestamp {text[i].as_py()!r} is not an ISO-8601 timestamp",
    )
    start = pa.scalar(datetime(day.year, day.month, day.day), pa.timestamp("us"))
    end = pa.scalar(datetime(day.year, day.month, day.day) + timedelta(days=1), pa.timestamp("us"))
    reasons.mark(
        pc.or_(pc.less(stamps, start), pc.greater_equal(stamps, end)),
        lambda i: f"sample_timestamp {text[i].as_py()} is outside the file's day {day.isoformat()}",
    )


def _check_procedures(reasons: Reasons, flat: pa.Table, files: Sequence[RawFile], known: Collection[str]) -> None:
    pids = flat.column("procedure_id")
    key_pids = pa.array([raw.procedure_id for raw in files], pa.string()).take(flat.column("source_index"))
    reasons.mark(
        pc.not_equal(pids, key_pids),
        lambda i: f"procedure_id {pids[i].as_py()!r} differs from the file key's {key_pids[i].as_py()!r}",
    )
    reasons.mark(
        pc.invert(pc.is_in(pids, value_set=pa.array(list(known), pa.string()))),
        lambda i: (
            f"unknown procedure_id {pids[i].as_py()!r} (no such procedure extracted for this day or the day before)"
        ),
    )


def _check_measurements(reasons: Reasons, flat: pa.Table) -> None:
    for path, _, kind in MEASUREMENTS:
        values = flat.column(path)
        if kind.kind == "numeric":
            limit = 10.0 ** (kind.precision - kind.scale)
            reasons.mark(
                pc.greater_equal(pc.abs(pc.round(values, kind.scale)), limit),
                lambda i, p=path, k=kind, v=values: f"{p} {v[i].as_py()} does not fit DECIMAL({k.precision},{k.scale})",
            )
            reasons.mark(pc.invert(pc.is_finite(values)), lambda i, p=path: f"{p} is not a finite number")
        elif kind.kind == "integer":
            reasons.mark(
                pc.greater(pc.abs(values), INT32_MAX),
                lambda i, p=path, v=values: f"{p} {v[i].as_py()} does not fit INTEGER",
            )
        elif kind.kind == "varchar":
            reasons.mark(
                pc.greater(pc.utf8_length(values), kind.length),
                lambda i, p=path, k=kind: f"{p} is longer than {k.length} characters",
            )


def _check_text(reasons: Reasons, flat: pa.Table) -> None:
    for name in NUL_CHECKED:
        reasons.mark(pc.match_substring(flat.column(name), "\x00"), lambda i, n=name: f"{n} contains a NUL character")
    for name in LENGTH_CHECKED:
        limit = varchar_length(FACT_COLUMNS, name)
        reasons.mark(
            pc.greater(pc.utf8_length(flat.column(name)), limit),
            lambda i, n=name, limit=limit: f"{n} is longer than {limit} characters",
        )
    extra = flat.column("extra_fields")
    reasons.mark(
        pc.greater(pc.binary_length(extra), JSON_TEXT_MAX_BYTES),
        lambda i: (
            f"unknown fields take {len(extra[i].as_py().encode())} bytes as JSON, "
            f"more than extra_fields holds ({JSON_TEXT_MAX_BYTES})"
        ),
    )


def _check_duplicates(reasons: Reasons, flat: pa.Table, files: Sequence[RawFile], stamps) -> None:
    """Duplicates among the rows that pass every other check: the first (in key order, then line order) wins,
    so a corrected resend of a refused sample still loads."""
    pids = flat.column("procedure_id")
    order = pa.array(np.arange(flat.num_rows, dtype=np.int64))
    good = pa.array([reason is None for reason in reasons.of])
    keyed = pa.table({"p": pids, "t": stamps, "i": order}).filter(good)
    firsts = keyed.group_by(["p", "t"], use_threads=False).aggregate([("i", "min")]).column("i_min")
    duplicate = pc.and_(good, pc.invert(pc.is_in(order, value_set=firsts)))
    if not pc.any(duplicate).as_py():
        return
    first_of: dict[tuple, int] = {}
    for i, (p, t, ok) in enumerate(zip(pids.to_pylist(), stamps.to_pylist(), good.to_pylist(), strict=True)):
        if ok:
            first_of.setdefault((p, t), i)
    sources, lines = flat.column("source_index"), flat.column("line_number")

    def where(i: int) -> str:
        j = first_of[(pids[i].as_py(), stamps[i].as_py())]
        first = f"{files[sources[j].as_py()].key} line {lines[j].as_py()}"
        return f"duplicate sample: same procedure_id and sample_timestamp as {first}"

    reasons.mark(duplicate, where)


def refusal_reasons(
    flat: pa.Table, files: Sequence[RawFile], day: date, procedure_ids: Collection[str], stamps
) -> list[str | None]:
    """The first reason each row is refused for, or None; `stamps` are its parsed sample timestamps."""
    reasons = Reasons(flat.num_rows)
    _check_required_and_times(reasons, flat, stamps, day)
    _check_procedures(reasons, flat, files, procedure_ids)
    _check_measurements(reasons, flat)
    _check_text(reasons, flat)
    _check_duplicates(reasons, flat, files, stamps)
    return reasons.of
