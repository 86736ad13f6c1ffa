"""What the lake holds: objects under '/'-separated keys inside its root, and the error for a key that holds none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from medrobotics_dagster.faults import PermanentFault


class LakeObjectNotFound(PermanentFault, FileNotFoundError):
    """No object under that key (the same error for a directory and for S3); a retry would not find it either."""

    reason = "lake object does not exist"


def check_key(key: str, *, prefix: bool = False) -> str:
    """The key if it is a clean '/'-separated path inside the lake root; a prefix may be empty or end in '/'."""
    body = key[:-1] if prefix and key.endswith("/") else key
    if prefix and not body:
        return key
    parts = body.split("/")
    if "\\" in key or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"lake key must be a relative '/'-separated path inside the lake root: {key!r}")
    return key


@dataclass(frozen=True)
class LakeObject:
    key: str  # relative to the lake root, '/'-separated
    last_modified: datetime  # timezone-aware UTC
    etag: str  # changes when the content changes
    size: int
