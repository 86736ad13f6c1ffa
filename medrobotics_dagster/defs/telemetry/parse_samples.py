"""One UTC day of raw telemetry files -> the typed rows of fact_procedure_telemetry, and every rejected line.

Fast path (`read_fast`): the day's files are read by Arrow's JSON reader in one call with an explicit schema. A
file the reader refuses (invalid JSON, a known field of another type, a blank line) is read again line by line
(`read_lines`), so its good lines still load and each bad line is quarantined with its line number. The checks
that follow (`sample_checks`) are vectorized and shared by both paths; the kept rows become fact rows (`fact_rows`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import pyarrow as pa

from medrobotics_dagster.defs.telemetry.fact_rows import FACT_SCHEMA, ProcedureInfo, fact_rows
from medrobotics_dagster.defs.telemetry.flat_samples import FLAT_SCHEMA
from medrobotics_dagster.defs.telemetry.raw_files import RawFile, UnreadableFile, decompress
from medrobotics_dagster.defs.telemetry.read_fast import read_fast
from medrobotics_dagster.defs.telemetry.read_lines import read_lines
from medrobotics_dagster.defs.telemetry.sample_checks import parse_timestamps, refusal_reasons
from medrobotics_dagster.defs.telemetry.schema import RAW_LINE_MAX_CHARS


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


def count_lines(body: bytes) -> int:
    """Lines that carry something (a blank line is no sample and no error)."""
    # Substring tests run at memchr speed; only a body that may hold a blank line is split.
    if body.startswith((b"\n", b" ", b"\t", b"\r")) or any(
        mark in body for mark in (b"\n\n", b"\n ", b"\n\t", b"\n\r", b" \n", b"\t\n")
    ):
        return sum(1 for line in body.split(b"\n") if line.strip())
    return body.count(b"\n")


def _bodies(files: Sequence[tuple[RawFile, bytes]], result: DayResult) -> list[bytes | None]:
    """Each file's newline-terminated lines; None for a file that cannot be decoded (rejected as a whole)."""
    bodies: list[bytes | None] = []
    for raw, stored in files:
        try:
            body = decompress(raw, stored)
        except UnreadableFile as exc:
            result.rejected.append(Rejected(raw.key, 0, str(exc), clean_text(stored[:RAW_LINE_MAX_CHARS])))
            bodies.append(None)
            continue
        bodies.append(body if not body or body.endswith(b"\n") else body + b"\n")
    return bodies


def _flat_tables(raws: Sequence[RawFile], bodies: Sequence[bytes | None], result: DayResult) -> list[pa.Table]:
    """Flat tables of every readable file: all at once when Arrow accepts them, else file by file."""
    readable = [i for i, body in enumerate(bodies) if body]
    if not readable:
        return []
    counts = [bodies[i].count(b"\n") for i in readable]
    try:
        tables = [read_fast([bodies[i] for i in readable], readable, counts, result.unknown_fields)]
        result.lines_read += sum(counts)  # Arrow accepted every line: none was blank
        return tables
    except (pa.ArrowInvalid, ValueError):
        pass
    tables = []
    for i, count in zip(readable, counts, strict=True):
        try:
            tables.append(read_fast([bodies[i]], [i], [count], result.unknown_fields))
            result.lines_read += count
        except (pa.ArrowInvalid, ValueError):
            result.lines_read += count_lines(bodies[i])
            table, refused = read_lines(bodies[i], i, result.unknown_fields)
            result.rejected += [Rejected(raws[i].key, n, reason, clean_text(line)) for n, reason, line in refused]
            tables.append(table)
    return tables


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
    bodies = _bodies(files, result)
    flats = _flat_tables(raws, bodies, result)
    flat = pa.concat_tables(flats) if flats else FLAT_SCHEMA.empty_table()
    if flat.num_rows == 0:
        return result
    stamps = parse_timestamps(flat.column("sample_timestamp"))
    reasons = refusal_reasons(flat, raws, day, procedures.keys(), stamps)
    bad = [i for i, reason in enumerate(reasons) if reason is not None]
    if bad:
        lines_of: dict[int, list[bytes]] = {}
        for i in bad:
            index, number = flat.column("source_index")[i].as_py(), flat.column("line_number")[i].as_py()
            lines = lines_of.setdefault(index, bodies[index].split(b"\n"))
            result.rejected.append(Rejected(raws[index].key, number, reasons[i], clean_text(lines[number - 1])))
        keep = pa.array([reason is None for reason in reasons])
        flat, stamps = flat.filter(keep), stamps.filter(keep)
    result.samples = fact_rows(flat, stamps, procedures, loaded_at)
    return result
