"""The one line of an error that messages, logs and the audit log show."""

from __future__ import annotations


def first_line(error: BaseException | str | None) -> str:
    """The first line of an error's message (its class name when it has none), or of a text ('' when none)."""
    if isinstance(error, BaseException):
        text = "" if error.args[:1] == (None,) else str(error)  # dg.Failure(None): no message
        lines = text.strip().splitlines()
        return lines[0].strip() if lines else type(error).__name__
    lines = (error or "").strip().splitlines()
    return lines[0].strip() if lines else ""
