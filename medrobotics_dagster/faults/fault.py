"""What a classified failure is: transient, permanent or unknown, with a short reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["transient", "permanent", "unknown"]


@dataclass(frozen=True)
class Fault:
    kind: Kind
    reason: str  # short: "SQLSTATE 57P01", "S3 SlowDown (HTTP 503)", "database does not exist", ...

    @property
    def permanent(self) -> bool:
        return self.kind == "permanent"


class PermanentFault(Exception):
    """An error this code raises knowing a retry cannot help (a lost table); its message is the one line shown."""

    reason = "permanent fault"
