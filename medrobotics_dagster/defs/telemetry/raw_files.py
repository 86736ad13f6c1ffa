"""The raw telemetry file contract: `raw/telemetry/procedure-<procedure_id>/<YYYYMMDD>.json[.gz]`, one UTC day each."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from medrobotics_dagster.raw_telemetry_paths import KEY_PATTERN, RAW_TELEMETRY_PREFIX
from medrobotics_dagster.resources.lake import LakeObject, check_key

ARCHIVE_PREFIX = "archive/telemetry/"


@dataclass(frozen=True)
class RawFile:
    """One raw telemetry object whose key follows the contract."""

    key: str
    procedure_id: str
    day: date
    etag: str
    last_modified: datetime
    size: int
    stored_at: str = ""  # where the bytes are now: the key itself, or its copy under archive/ once archived

    @property
    def gzipped(self) -> bool:
        return self.key.endswith(".gz")

    @property
    def location(self) -> str:
        return self.stored_at or self.key


def archive_key(raw: RawFile) -> str:
    """Where a processed file is kept, by day: archive/telemetry/dt=<day>/procedure-<id>/<file>."""
    return f"{ARCHIVE_PREFIX}dt={raw.day.isoformat()}/{raw.key[len(RAW_TELEMETRY_PREFIX) :]}"


def from_archive(obj: LakeObject) -> RawFile | None:
    """The raw file an archived object is a copy of (its contract key), or None for anything else."""
    parts = obj.key[len(ARCHIVE_PREFIX) :].split("/", 1)
    if not obj.key.startswith(ARCHIVE_PREFIX) or len(parts) != 2 or not parts[0].startswith("dt="):
        return None
    original = parse_key(LakeObject(RAW_TELEMETRY_PREFIX + parts[1], obj.last_modified, obj.etag, obj.size))
    if original is None or original.day.isoformat() != parts[0][3:]:
        return None
    return RawFile(original.key, original.procedure_id, original.day, obj.etag, obj.last_modified, obj.size, obj.key)


def parse_key(obj: LakeObject) -> RawFile | None:
    """The file's contract fields, or None when its key does not follow the contract."""
    match = KEY_PATTERN.match(obj.key)
    if not match:
        return None
    try:
        check_key(obj.key)  # e.g. a backslash or a '..' part: the lake would refuse to read it
    except ValueError:
        return None
    try:
        day = datetime.strptime(match["day"], "%Y%m%d").date()
    except ValueError:  # 20240230
        return None
    return RawFile(obj.key, match["procedure_id"], day, obj.etag, obj.last_modified, obj.size, obj.key)


def day_versions(files: Iterable[RawFile]) -> dict[str, str]:
    """The data version of each day's raw files: a hash of its (contract key, ETag) pairs. A file added,
    overwritten or deleted changes it; identical bytes uploaded again (same ETag) do not."""
    by_day: dict[str, set[str]] = {}
    for raw in files:
        by_day.setdefault(raw.day.isoformat(), set()).add(f"{raw.key}\t{raw.etag}")
    return {day: hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:20] for day, lines in by_day.items()}


def classify(objects: Iterable[LakeObject]) -> tuple[list[RawFile], list[str]]:
    """(files that follow the contract, keys that do not), from one listing of the raw prefix."""
    files, malformed = [], []
    for obj in objects:
        raw = parse_key(obj)
        if raw is None:
            malformed.append(obj.key)
        else:
            files.append(raw)
    return files, malformed


class UnreadableFile(ValueError):
    """A file whose bytes cannot be decoded at all (a corrupt gzip stream)."""


def decompress(raw: RawFile, body: bytes) -> bytes:
    """The file's newline-delimited JSON; a `.gz` key must hold a gzip stream."""
    if not raw.gzipped:
        return body
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise UnreadableFile(f"not a readable gzip file: {exc}") from None
