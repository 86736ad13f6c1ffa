"""Why the synthetic-data commands refuse to run."""

from __future__ import annotations


class SyntheticDataError(Exception):
    """A synthetic-data command refused to run; the message says what to do instead."""


class SourceNotEmpty(SyntheticDataError):
    """`generate` found existing data in the source database or raw telemetry in the lake."""


class DayAlreadySimulated(SyntheticDataError):
    """`simulate_day` was asked for a day that is not after the latest procedure already in the source."""


class SourceEmpty(SyntheticDataError):
    """`simulate_day` needs a world to move forward: run `generate` first."""


class HistoryTooShort(SyntheticDataError):
    """`generate` cannot book the procedures of its scale into a history window that short."""
