"""`DayStream` parses days ahead of the one being written, yet hands them over in order and stops at the first
day that fails: no later day is handed over or archived, and the failure reaches the audit hook once."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from medrobotics_dagster.defs.telemetry.assets import stable_procedure_key
from medrobotics_dagster.defs.telemetry.day_stream import PARSE_AHEAD_DAYS, DayStream
from medrobotics_dagster.defs.telemetry.fact_rows import ProcedureInfo
from medrobotics_dagster.defs.telemetry.raw_files import classify
from medrobotics_dagster.resources.lake import Lake, LakeObjectNotFound
from medrobotics_dagster_tests.defs.telemetry.test_parse_samples import PID, body, good_lines

FIRST = date(2024, 1, 15)
DAYS = [FIRST + timedelta(days=n) for n in range(PARSE_AHEAD_DAYS + 4)]


def _stream(tmp_path, missing: date | None = None) -> tuple[DayStream, dict, dict, list[Exception]]:
    lake = Lake(url=str(tmp_path / "lake"))
    for n, day in enumerate(DAYS):
        lake.put(f"raw/telemetry/procedure-{PID}/{day:%Y%m%d}.json", body(*good_lines(n + 1, day=day)))
    files, _ = classify(lake.list("raw/telemetry/"))
    if missing is not None:  # listed, then gone before the load reads it
        lake.delete(f"raw/telemetry/procedure-{PID}/{missing:%Y%m%d}.json")
    files_by_day = {raw.day: [raw] for raw in files}
    procedures = {day: {PID: ProcedureInfo(stable_procedure_key(PID))} for day in DAYS}
    errors: list[Exception] = []
    stream = DayStream(lake, DAYS, 0.05, True, logging.getLogger(__name__), "quarantine", on_error=errors.append)
    return stream, files_by_day, procedures, errors


def test_days_come_out_in_order_each_with_its_own_rows(tmp_path):
    stream, files_by_day, procedures, errors = _stream(tmp_path)
    handed = [(key, table.num_rows) for key, table in stream.tables(files_by_day, procedures)]
    assert handed == [(day.isoformat(), n + 1) for n, day in enumerate(DAYS)]
    assert [stream.by_day[day.isoformat()]["rows_loaded"] for day in DAYS] == [n + 1 for n in range(len(DAYS))]
    assert stream.archived == len(DAYS) and not errors


def test_a_failing_day_stops_the_stream_before_any_later_day(tmp_path):
    broken = DAYS[2]
    stream, files_by_day, procedures, errors = _stream(tmp_path, missing=broken)
    handed = []
    with pytest.raises(LakeObjectNotFound):
        for key, _ in stream.tables(files_by_day, procedures):
            handed.append(key)
    assert handed == [day.isoformat() for day in DAYS[:2]]
    assert sorted(stream.by_day) == handed  # later days, parsed ahead or not, are not counted
    assert stream.archived == 2  # only the days handed over and written
    assert len(errors) == 1 and isinstance(errors[0], LakeObjectNotFound)
    later = [obj.key for obj in stream.lake.list("raw/telemetry/")]
    assert sorted(later) == [f"raw/telemetry/procedure-{PID}/{day:%Y%m%d}.json" for day in DAYS[3:]]


def test_an_abandoned_stream_stops_parsing(tmp_path):
    stream, files_by_day, procedures, _ = _stream(tmp_path)
    tables = stream.tables(files_by_day, procedures)
    assert next(tables)[0] == DAYS[0].isoformat()
    tables.close()
    assert sorted(stream.by_day) == [DAYS[0].isoformat()]
    assert stream.archived == 0  # the first day was handed over but its writer never came back for the next
