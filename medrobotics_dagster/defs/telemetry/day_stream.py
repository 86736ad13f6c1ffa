"""A telemetry run's days parsed in order, a few ahead of the one being written, with each day's own figures and
the run's totals for the checks, the materializations (per partition) and the audit log (per day)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pyarrow as pa

from medrobotics_dagster.defs.telemetry.fact_rows import ProcedureInfo
from medrobotics_dagster.defs.telemetry.parse_samples import DayResult, parse_day
from medrobotics_dagster.defs.telemetry.raw_files import RawFile, archive_key
from medrobotics_dagster.defs.telemetry.schema import QUARANTINE_COLUMNS, varchar_length
from medrobotics_dagster.io_managers import AuditRecord
from medrobotics_dagster.ordered_ahead import ordered_ahead
from medrobotics_dagster.resources.lake import Lake

S3_FETCH_WORKERS = 16
# Days parsed ahead while the current day's Parquet is written: Arrow's reader and kernels release the GIL, so a
# second core works; memory grows by that many days.
PARSE_AHEAD_DAYS = 2
SOURCE_KEY_MAX_CHARS = varchar_length(QUARANTINE_COLUMNS, "source_key")
REASON_MAX_CHARS = varchar_length(QUARANTINE_COLUMNS, "reason")


def procedures_for_day(by_day: dict[date, dict[str, ProcedureInfo]], day: date) -> dict[str, ProcedureInfo]:
    """The procedures a day's samples may belong to: those that started that day or the day before, whatever
    range the day is loaded in (a partition's rows must not depend on its neighbours in the run)."""
    return {**by_day.get(day - timedelta(days=1), {}), **by_day.get(day, {})}


def _fetch(lake: Lake, files: list[RawFile], pool: ThreadPoolExecutor | None) -> list[tuple[RawFile, bytes]]:
    bodies = (pool.map if pool else map)(lambda raw: lake.get(raw.location), files)
    return list(zip(files, bodies, strict=True))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


class DayStream:
    """Parses the run's days in order and keeps the figures the checks, metadata and audit report."""

    def __init__(
        self, lake: Lake, days: list[date], budget: float, archive: bool, log, quarantine_name: str, on_error=None
    ):
        self.lake, self.days, self.log, self.on_error = lake, days, log, on_error
        self.budget, self.archive, self.quarantine_name = budget, archive, quarantine_name
        self.archived = 0
        self.load_id = uuid.uuid4().hex
        self.loaded_at = datetime.now(UTC).replace(tzinfo=None)
        self.quarantine_rows: list[dict] = []
        self.lines = self.rows = self.files = 0
        self.unknown_fields: Counter = Counter()
        self.over_budget: dict[str, float] = {}
        self.by_day: dict[str, dict[str, int]] = {}  # 'YYYY-MM-DD' -> that day's own figures

    def tables(
        self, files_by_day: dict[date, list[RawFile]], procedures: dict[date, dict[str, ProcedureInfo]]
    ) -> Iterator[tuple[str, pa.Table]]:
        workers = S3_FETCH_WORKERS if self.lake.resolved_url().startswith("s3://") else 4
        try:
            with ThreadPoolExecutor(max_workers=workers) as fetch_pool:

                def parsed(day: date) -> tuple[date, DayResult]:
                    fetched = _fetch(self.lake, files_by_day.get(day, []), fetch_pool)
                    return day, parse_day(day, fetched, procedures_for_day(procedures, day), self.loaded_at)

                # A failed or abandoned stream parses no further day (closing the look-ahead cancels them).
                with closing(ordered_ahead(parsed, self.days, PARSE_AHEAD_DAYS, PARSE_AHEAD_DAYS, "parse")) as days:
                    for day, result in days:
                        self._record(day, result)
                        yield day.isoformat(), result.samples  # resumed once the day's Parquet is written
                        if self.archive:
                            self._archive([raw for raw in files_by_day.get(day, []) if raw.location == raw.key])
        except Exception as exc:  # consumed by the lake IO manager: the asset body never sees this error
            if self.on_error is not None:
                self.on_error(exc)
            raise

    def _archive(self, files: list[RawFile]) -> None:
        """Copy the day's raw files under archive/, then remove them from raw/ (the sensor lists raw/ only)."""
        for raw in files:
            self.lake.copy(raw.key, archive_key(raw))
            self.lake.delete(raw.key)
        self.archived += len(files)

    def _record(self, day: date, result: DayResult) -> None:
        self.lines += result.lines_read
        self.rows += result.samples.num_rows
        self.files += result.files_read
        self.unknown_fields.update(result.unknown_fields)
        for rejected in result.rejected:
            self.quarantine_rows.append(
                {
                    "partition_start": _midnight(day),
                    "load_id": self.load_id,
                    "source_key": rejected.source_key[:SOURCE_KEY_MAX_CHARS],
                    "line_number": rejected.line_number,
                    "reason": rejected.reason[:REASON_MAX_CHARS],
                    "raw_line": rejected.raw_line,
                    "quarantined_at": self.loaded_at,
                }
            )
        bad = len(result.rejected)
        self.by_day[day.isoformat()] = {
            "files_read": result.files_read,
            "lines_read": result.lines_read,
            "rows_read": result.lines_read,
            "rows_loaded": result.samples.num_rows,
            "rows_quarantined": bad,
            "lines_quarantined": bad,
        }
        share = bad / max(result.lines_read, 1) if bad else 0.0
        if share > self.budget:
            self.over_budget[day.isoformat()] = round(share, 4)
        if bad:
            self.log.warning(f"{day}: {bad} of {result.lines_read} line(s) rejected (see {self.quarantine_name})")

    def summary(self) -> dict[str, object]:
        return {
            "load_id": self.load_id,
            "files_read": self.files,
            "lines_read": self.lines,
            "rows_read": self.lines,
            "rows_loaded": self.rows,
            "rows_quarantined": len(self.quarantine_rows),
            "lines_quarantined": len(self.quarantine_rows),
            "files_archived": self.archived,
            "unknown_fields": dg.MetadataValue.json(dict(self.unknown_fields)),
        }

    def partition_summary(self) -> dict[str, dict[str, int]]:
        return self.by_day

    def audit_records(self, asset_key: str, run_id: str, attempt: int) -> list[AuditRecord]:
        """One succeeded record per day parsed, with its lines read, samples and quarantined lines."""
        return [
            self._day_record(
                day,
                asset_key=asset_key,
                run_id=run_id,
                attempt=attempt,
                rows_read=figures["lines_read"],
                rows_loaded=figures["rows_loaded"],
                started_at=self.loaded_at,
            )
            for day, figures in self.by_day.items()
        ]

    def _day_record(self, day: str, **fields) -> AuditRecord:
        """This load's audit record of one UTC day, with that day's quarantined lines and the given fields."""
        start = _midnight(date.fromisoformat(day))
        return AuditRecord(
            partition_start=start,
            partition_end=start + timedelta(days=1),
            rows_deleted=0,
            rows_quarantined=self.by_day[day]["rows_quarantined"],
            load_id=self.load_id,
            **fields,
        )

    def over_budget_text(self, limit: int = 5) -> str:
        """The days over the error budget with their figures, in one line (the check's description)."""
        days = sorted(self.over_budget)
        shown = [
            f"{day} {self.by_day[day]['rows_quarantined']} of {self.by_day[day]['lines_read']} lines rejected "
            f"({self.over_budget[day]:.1%})"
            for day in days[:limit]
        ]
        more = f" and {len(days) - limit} more day(s)" if len(days) > limit else ""
        return f"over the {self.budget:.1%} error budget: {'; '.join(shown)}{more}; the fact keeps its previous rows"

    def blocked_records(self, asset_key: str, run_id: str, attempt: int, check_name: str) -> list[AuditRecord]:
        """One blocked record of the fact per day of the run when a day is over the error budget: the blocking
        check stops the fact's load for the whole run, so its other days are blocked too."""
        records = []
        first_over = min(self.over_budget, default=None)
        for day in sorted(self.by_day) if first_over else []:
            figures = self.by_day[day]
            share = self.over_budget.get(day)
            message = (
                f"{day}: {figures['rows_quarantined']} of {figures['lines_read']} line(s) rejected ({share:.1%}), over "
                f"the {self.budget:.1%} error budget; the fact keeps its previous rows"
                if share is not None
                else f"{day}: within the error budget, but {first_over} of the same run is not; the fact keeps the "
                "day's previous rows"
            )
            records.append(
                self._day_record(
                    day,
                    asset_key=asset_key,
                    run_id=run_id,
                    attempt=attempt,
                    rows_read=0,
                    rows_loaded=0,
                    status="blocked",
                    error_class=check_name,
                    error_message=message,
                )
            )
        return records
