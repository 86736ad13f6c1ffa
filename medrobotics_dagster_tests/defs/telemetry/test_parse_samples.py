"""`parse_day` against the raw telemetry contract's bad-input catalogue (docs/telemetry-contract.md).

Every case mixes good and bad input and checks the same things: the good rows still come out, each bad line
is rejected with its file key, line number, a reason that names the problem and its raw text, and nothing is
lost (rows + rejected lines == lines read).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from medrobotics_dagster.column_types import arrow_schema
from medrobotics_dagster.defs.telemetry.assets import stable_procedure_key
from medrobotics_dagster.defs.telemetry.fact_rows import ProcedureInfo, local_time_keys, telemetry_keys
from medrobotics_dagster.defs.telemetry.parse_samples import DayResult, parse_day
from medrobotics_dagster.defs.telemetry.raw_files import RawFile, parse_key
from medrobotics_dagster.defs.telemetry.schema import FACT_COLUMNS, RAW_LINE_MAX_CHARS
from medrobotics_dagster.resources.lake import LakeObject

DAY = date(2024, 1, 15)
PID = "PROC-000123"
OTHER = "PROC-000456"
PROCEDURES = {PID: ProcedureInfo(stable_procedure_key(PID)), OTHER: ProcedureInfo(stable_procedure_key(OTHER))}
LOADED_AT = datetime(2024, 1, 16, 3, 0, 0)


# ---------------------------------------------------------------------------------------------- helpers


def stamp(second: int, day: date = DAY, hour: int = 9) -> str:
    moment = datetime(day.year, day.month, day.day, hour) + timedelta(seconds=second)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sample(second: int = 0, procedure_id: str = PID, day: date = DAY, **overrides) -> dict:
    """A sample as docs/telemetry-contract.md shows it; `overrides` replace top-level fields (None removes one)."""
    doc = {
        "procedure_id": procedure_id,
        "robot_id": "ROB-007",
        "sample_timestamp": stamp(second, day),
        "arm_position": {"x": 12.3456, "y": -3.2101, "z": 101.0021},
        "arm_rotation": {"x": 0.1234, "y": 1.5678, "z": -0.4321},
        "force_feedback": 2.3456,
        "tool": {"type": "grasper", "active": True},
        "camera": {"zoom": 1.50, "lighting_level": 80},
        "system": {"temperature": 36.75, "motor_current": 1.2345, "network_latency_ms": 12, "video_fps": 60},
    }
    for key, value in overrides.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def line(doc: dict) -> bytes:
    return json.dumps(doc).encode()


def good_lines(count: int, procedure_id: str = PID, start: int = 0, day: date = DAY) -> list[bytes]:
    return [line(sample(start + i, procedure_id, day)) for i in range(count)]


def body(*lines: bytes) -> bytes:
    return b"\n".join(lines) + b"\n"


def raw_file(procedure_id: str = PID, day: date = DAY, gz: bool = False, size: int = 0) -> RawFile:
    key = f"raw/telemetry/procedure-{procedure_id}/{day.strftime('%Y%m%d')}.json" + (".gz" if gz else "")
    parsed = parse_key(LakeObject(key, datetime(2024, 1, 16, 1, tzinfo=UTC), "etag-1", size))
    assert parsed is not None, key
    return parsed


def run(*files: tuple[RawFile, bytes], procedures=PROCEDURES, day: date = DAY) -> DayResult:
    result = parse_day(day, list(files), procedures, LOADED_AT)
    result.samples.validate(full=True)  # valid UTF-8 strings, consistent arrays
    assert result.samples.schema == arrow_schema(FACT_COLUMNS)
    assert result.files_read == len(files)
    return result


def line_rejections(result: DayResult):
    return [r for r in result.rejected if r.line_number > 0]


def assert_accounted(result: DayResult) -> None:
    """Nothing is silently dropped: every line read is a row or a rejected line."""
    assert result.samples.num_rows + len(line_rejections(result)) == result.lines_read, (
        f"{result.samples.num_rows} row(s) + {len(line_rejections(result))} rejected "
        f"!= {result.lines_read} line(s) read"
    )


def stamps_of(result: DayResult) -> list[datetime]:
    return sorted(result.samples.column("sample_timestamp").to_pylist())


def expected_stamps(*seconds: int, day: date = DAY) -> list[datetime]:
    return sorted(datetime(day.year, day.month, day.day, 9) + timedelta(seconds=s) for s in seconds)


def only_rejection(result: DayResult):
    assert len(result.rejected) == 1, result.rejected
    return result.rejected[0]


def assert_rejected(rejected, key: str, number: int, *words: str, raw: bytes | None = None) -> None:
    assert rejected.source_key == key
    assert rejected.line_number == number
    for word in words:
        assert word.lower() in rejected.reason.lower(), f"{word!r} not in reason {rejected.reason!r}"
    if raw is not None:
        assert rejected.raw_line == raw.decode("utf-8")


# ---------------------------------------------------------------------------------------------- good input


def test_good_file_loads_every_sample_with_its_values():
    raw = raw_file()
    result = run((raw, body(*good_lines(3))))
    assert result.rejected == []
    assert result.lines_read == 3 and result.samples.num_rows == 3
    assert_accounted(result)
    row = result.samples.slice(0, 1).to_pylist()[0]
    assert row["procedure_id"] == PID and row["robot_id"] == "ROB-007"
    assert str(row["arm_position_x"]) == "12.3456" and str(row["arm_position_y"]) == "-3.2101"
    assert str(row["camera_zoom"]) == "1.50" and str(row["system_temperature"]) == "36.75"
    assert row["tool_type"] == "grasper" and row["tool_active"] is True
    assert row["lighting_level"] == 80 and row["video_fps"] == 60 and row["network_latency_ms"] == 12
    assert row["sample_timestamp"] == datetime(2024, 1, 15, 9, 0, 0)
    assert row["extra_fields"] is None
    assert row["created_at"] == LOADED_AT


# ---------------------------------------------------------------------------------------------- not JSON at all


def test_binary_garbage_file_is_rejected_line_by_line_and_good_files_still_load():
    rng = random.Random(7)
    garbage = bytes(rng.randrange(256) for _ in range(3000)) + b"\x00\x00\xff\xfe"
    lines = [part for part in garbage.split(b"\n")]
    lines = [part if part.strip() else b"#" for part in lines]  # no blank lines: every line must be rejected
    garbage = b"\n".join(lines)
    bad, good = raw_file(), raw_file(OTHER)
    result = run((bad, garbage), (good, body(*good_lines(2, OTHER))))
    assert result.samples.num_rows == 2
    assert set(result.samples.column("procedure_id").to_pylist()) == {OTHER}
    rejected = line_rejections(result)
    assert [r.line_number for r in rejected] == list(range(1, len(lines) + 1))
    for r in rejected:
        assert r.source_key == bad.key
        assert "json" in r.reason.lower()
        assert r.raw_line is not None and "\x00" not in r.raw_line
        r.raw_line.encode("utf-8")  # a valid string for a VARCHAR
        assert len(r.raw_line) <= RAW_LINE_MAX_CHARS
    assert_accounted(result)


def test_plain_text_file_is_rejected_line_by_line_with_its_text():
    text = [b"Robot log 2024-01-15", b"arm moved to 12.3 -3.2 101.0", b"END"]
    bad, good = raw_file(), raw_file(OTHER)
    result = run((bad, body(*text)), (good, body(*good_lines(1, OTHER))))
    assert result.samples.num_rows == 1
    rejected = line_rejections(result)
    assert len(rejected) == 3
    for number, (r, raw) in enumerate(zip(rejected, text, strict=True), start=1):
        assert_rejected(r, bad.key, number, "invalid JSON", raw=raw)
    assert_accounted(result)


def test_json_that_is_not_an_object_is_rejected():
    raw = raw_file()
    result = run((raw, body(*good_lines(2), b"[1, 2, 3]", b"42")))
    assert result.samples.num_rows == 2
    rejected = line_rejections(result)
    assert [r.line_number for r in rejected] == [3, 4]
    assert all("object" in r.reason for r in rejected)
    assert_accounted(result)


# ---------------------------------------------------------------------------------------------- line-level faults


def test_truncated_last_line_is_rejected_and_the_rest_loads():
    raw = raw_file()
    lines = good_lines(3)
    truncated = lines[2][: len(lines[2]) // 2]
    result = run((raw, b"\n".join(lines[:2] + [truncated])))  # no final newline, as when an upload is cut
    assert stamps_of(result) == expected_stamps(0, 1)
    assert_rejected(only_rejection(result), raw.key, 3, "invalid JSON", raw=truncated)
    assert result.lines_read == 3
    assert_accounted(result)


def test_wrong_type_is_rejected_not_coerced():
    raw = raw_file()
    bad = line(sample(1, arm_position={"x": "abc", "y": 1.0, "z": 2.0}))
    result = run((raw, body(line(sample(0)), bad, line(sample(2)))))
    assert stamps_of(result) == expected_stamps(0, 2)
    assert_rejected(only_rejection(result), raw.key, 2, "arm_position.x", raw=bad)
    assert_accounted(result)


@pytest.mark.parametrize("field", ["sample_timestamp", "procedure_id"])
def test_missing_required_field_is_rejected(field):
    raw = raw_file()
    bad = line(sample(1, **{field: None}))
    result = run((raw, body(line(sample(0)), bad, line(sample(2)))))
    assert stamps_of(result) == expected_stamps(0, 2)
    assert_rejected(only_rejection(result), raw.key, 2, "missing", field, raw=bad)
    assert_accounted(result)


def test_unknown_procedure_is_rejected_and_known_procedures_of_the_day_load():
    unknown, known = raw_file("PROC-999999"), raw_file()
    lines = good_lines(2, "PROC-999999")
    result = run((unknown, body(*lines)), (known, body(*good_lines(3))))
    assert stamps_of(result) == expected_stamps(0, 1, 2)
    rejected = line_rejections(result)
    assert len(rejected) == 2
    for number, r in enumerate(rejected, start=1):
        assert_rejected(r, unknown.key, number, "unknown procedure", "PROC-999999", raw=lines[number - 1])
    assert_accounted(result)


def test_procedure_id_that_differs_from_the_key_is_rejected():
    raw = raw_file()
    bad = line(sample(1, procedure_id=OTHER))  # a known procedure, but not this file's
    result = run((raw, body(line(sample(0)), bad, line(sample(2)))))
    assert stamps_of(result) == expected_stamps(0, 2)
    assert set(result.samples.column("procedure_id").to_pylist()) == {PID}
    assert_rejected(only_rejection(result), raw.key, 2, OTHER, PID, raw=bad)
    assert_accounted(result)


@pytest.mark.parametrize(
    "timestamp",
    ["2024-01-16T00:00:00.000Z", "2024-01-14T23:59:59.999Z", "2023-01-15T09:00:00Z", "2024-01-15T01:00:00+05:00"],
)
def test_timestamp_outside_the_files_day_is_rejected(timestamp):
    raw = raw_file()
    bad = line(sample(1, sample_timestamp=timestamp))
    result = run((raw, body(line(sample(0)), bad, line(sample(2)))))
    assert stamps_of(result) == expected_stamps(0, 2)
    assert_rejected(only_rejection(result), raw.key, 2, "outside", "2024-01-15", raw=bad)
    assert_accounted(result)


def test_timestamp_with_an_offset_inside_the_day_is_converted_to_utc():
    raw = raw_file()
    result = run((raw, body(line(sample(0, sample_timestamp="2024-01-15T14:30:00+05:00")))))
    assert result.rejected == []
    assert stamps_of(result) == [datetime(2024, 1, 15, 9, 30)]


@pytest.mark.parametrize("timestamp", ["yesterday", "2024-13-45T09:00:00Z", "", "15/01/2024 09:00"])
def test_unparseable_timestamp_is_rejected(timestamp):
    raw = raw_file()
    bad = line(sample(1, sample_timestamp=timestamp))
    result = run((raw, body(line(sample(0)), bad, line(sample(2)))))
    assert stamps_of(result) == expected_stamps(0, 2)
    assert_rejected(only_rejection(result), raw.key, 2, "sample_timestamp", "timestamp", raw=bad)
    assert_accounted(result)


def test_same_sample_twice_in_a_file_keeps_the_first():
    raw = raw_file()
    lines = good_lines(3)
    result = run((raw, body(lines[0], lines[1], lines[1], lines[2])))
    assert stamps_of(result) == expected_stamps(0, 1, 2)
    rejected = only_rejection(result)
    assert_rejected(rejected, raw.key, 3, "duplicate", raw=lines[1])
    assert "line 2" in rejected.reason  # names the first occurrence
    assert_accounted(result)


def test_same_sample_in_the_json_and_the_gzip_file_of_one_procedure_loads_once():
    plain, packed = raw_file(), raw_file(gz=True)
    lines = good_lines(3)
    gz_lines = [lines[2], line(sample(3)), lines[0]]
    result = run((packed, gzip.compress(body(*gz_lines))), (plain, body(*lines)))
    assert stamps_of(result) == expected_stamps(0, 1, 2, 3)
    assert result.lines_read == 6
    rejected = line_rejections(result)
    assert [(r.source_key, r.line_number) for r in rejected] == [(packed.key, 1), (packed.key, 3)]
    assert all("duplicate" in r.reason and plain.key in r.reason for r in rejected)
    assert [r.raw_line for r in rejected] == [lines[2].decode(), lines[0].decode()]
    assert_accounted(result)


def test_sample_repeated_with_a_bad_value_then_corrected_keeps_the_good_version():
    """A resend corrects a line the first copy had wrong: the corrected sample is not lost as a 'duplicate'
    of a line that was itself rejected."""
    raw = raw_file()
    wrong = line(sample(1, force_feedback=123456789.0))  # does not fit DECIMAL(10,4)
    fixed = line(sample(1))
    result = run((raw, body(line(sample(0)), wrong, fixed)))
    assert stamps_of(result) == expected_stamps(0, 1)
    assert_rejected(only_rejection(result), raw.key, 2, "force_feedback", raw=wrong)
    assert_accounted(result)


def test_empty_file_reads_no_lines_and_does_not_stop_the_day():
    empty, good = raw_file(), raw_file(OTHER)
    result = run((empty, b""), (good, body(*good_lines(2, OTHER))))
    assert result.samples.num_rows == 2 and result.lines_read == 2
    assert line_rejections(result) == []
    assert_accounted(result)


def test_empty_day_gives_an_empty_table_of_the_fact_schema():
    result = run()
    assert result.samples.num_rows == 0 and result.lines_read == 0 and result.rejected == []


def test_gzip_file_loads():
    raw = raw_file(gz=True)
    result = run((raw, gzip.compress(body(*good_lines(4)))))
    assert result.rejected == []
    assert stamps_of(result) == expected_stamps(0, 1, 2, 3)
    assert_accounted(result)


@pytest.mark.parametrize(
    "stored",
    [
        b"\x1f\x8b\x08\x00garbage that is no deflate stream",
        gzip.compress(b'{"procedure_id": "PROC-000123"}\n' * 50)[:40],  # cut in the middle of the stream
        b'{"procedure_id": "PROC-000123"}\n',  # plain JSON under a .gz key
    ],
    ids=["bad-stream", "truncated", "not-gzip"],
)
def test_corrupt_gzip_is_rejected_as_a_file_and_other_files_still_load(stored):
    bad, good = raw_file(gz=True), raw_file(OTHER)
    result = run((bad, stored), (good, body(*good_lines(2, OTHER))))
    assert result.samples.num_rows == 2
    rejected = only_rejection(result)
    assert rejected.source_key == bad.key and rejected.line_number == 0
    assert "gzip" in rejected.reason
    assert rejected.raw_line is not None and "\x00" not in rejected.raw_line
    assert_accounted(result)


@pytest.mark.parametrize(
    "override, words",
    [
        ({"arm_position": {"x": 1234567.8, "y": 1.0, "z": 2.0}}, ["arm_position.x", "DECIMAL(10,4)"]),
        ({"arm_position": {"x": 999999.99996, "y": 1.0, "z": 2.0}}, ["arm_position.x", "DECIMAL(10,4)"]),  # rounds up
        ({"force_feedback": -1e7}, ["force_feedback", "DECIMAL(10,4)"]),
        ({"camera": {"zoom": 1000.0, "lighting_level": 80}}, ["camera.zoom", "DECIMAL(5,2)"]),
        ({"camera": {"zoom": 1.5, "lighting_level": 2**31}}, ["camera.lighting_level", "INTEGER"]),
        ({"tool": {"type": "g" * 101, "active": True}}, ["tool.type", "100"]),
        ({"robot_id": "R" * 51}, ["robot_id", "50"]),
    ],
    ids=[
        "decimal-overflow",
        "decimal-rounds-over",
        "negative-overflow",
        "zoom-overflow",
        "int-overflow",
        "tool-type-too-long",
        "robot-id-too-long",
    ],
)
def test_value_that_does_not_fit_its_column_is_rejected(override, words):
    raw = raw_file()
    bad = line(sample(1, **override))
    result = run((raw, body(line(sample(0)), bad, line(sample(2)))))
    assert stamps_of(result) == expected_stamps(0, 2)
    assert_rejected(only_rejection(result), raw.key, 2, *words, raw=bad)
    assert_accounted(result)


def test_values_at_the_edge_of_their_columns_load():
    raw = raw_file()
    edge = line(
        sample(
            0,
            arm_position={"x": 999999.9999, "y": -999999.9999, "z": 0.0},
            tool={"type": "g" * 100, "active": False},
            camera={"zoom": 999.99, "lighting_level": 2**31 - 1},
        )
    )
    result = run((raw, body(edge)))
    assert result.rejected == []
    row = result.samples.to_pylist()[0]
    assert str(row["arm_position_x"]) == "999999.9999" and str(row["arm_position_y"]) == "-999999.9999"
    assert row["tool_type"] == "g" * 100 and row["lighting_level"] == 2**31 - 1


@pytest.mark.parametrize(
    "text, field",
    [
        (b'"video_fps": 9223372036854775808', "video_fps"),  # beyond int64: still one bad line, not a crashed day
        (b'"video_fps": 1e20', "video_fps"),  # an integral float too big for any integer column
    ],
    ids=["int-beyond-int64", "integral-float-1e20"],
)
def test_huge_integer_is_rejected_without_failing_the_day(text, field):
    raw = raw_file()
    doc = line(sample(1))
    bad = doc.replace(b'"video_fps": 60', text)
    assert bad != doc
    result = run((raw, body(line(sample(0)), bad, line(sample(2)))))
    assert stamps_of(result) == expected_stamps(0, 2)
    assert_rejected(only_rejection(result), raw.key, 2, field, raw=bad)
    assert_accounted(result)


def test_blank_lines_in_the_middle_keep_line_numbers_right():
    raw = raw_file()
    bad = line(sample(5, arm_position={"x": "abc"}))
    lines = [line(sample(0)), b"", line(sample(1)), b"   ", b"", bad, line(sample(2)), line(sample(1))]
    result = run((raw, body(*lines)))
    assert stamps_of(result) == expected_stamps(0, 1, 2)
    rejected = line_rejections(result)
    assert [(r.line_number, r.raw_line) for r in rejected] == [(6, bad.decode()), (8, lines[7].decode())]
    assert "line 3" in rejected[1].reason  # the duplicate names the first occurrence by its real line number


def test_blank_lines_are_accounted_for():
    """lines_read is what the error budget and the run's metadata divide by: blank lines must not make
    rows + rejected lines fall short of it (an operator would see lines silently lost)."""
    raw = raw_file()
    result = run((raw, body(line(sample(0)), b"", line(sample(1)), b"   ")))
    assert result.samples.num_rows == 2
    assert_accounted(result)


# ---------------------------------------------------------------------------------------------- schema drift


def test_unknown_fields_are_kept_in_extra_fields_and_counted():
    raw = raw_file()
    drifted = sample(1, firmware="4.2.1")
    drifted["system"] = {**drifted["system"], "humidity": 41.5}
    result = run((raw, body(line(sample(0)), line(drifted), line(sample(2)))))
    assert result.rejected == []
    assert stamps_of(result) == expected_stamps(0, 1, 2)
    rows = sorted(result.samples.to_pylist(), key=lambda r: r["sample_timestamp"])
    assert rows[0]["extra_fields"] is None and rows[2]["extra_fields"] is None
    extra = _flat_paths(json.loads(rows[1]["extra_fields"]))
    assert extra == {"firmware": "4.2.1", "system.humidity": 41.5}
    assert rows[1]["system_temperature"] is not None and rows[1]["video_fps"] == 60  # known siblings still load
    assert dict(result.unknown_fields) == {"firmware": 1, "system.humidity": 1}
    assert_accounted(result)


def test_unknown_fields_in_a_file_that_also_has_a_bad_line_are_kept_too():
    raw = raw_file()
    drifted = sample(1, firmware="4.2.1")
    drifted["system"] = {**drifted["system"], "humidity": 41.5}
    result = run((raw, body(line(sample(0)), line(drifted), b"{not json")))
    assert stamps_of(result) == expected_stamps(0, 1)
    rows = sorted(result.samples.to_pylist(), key=lambda r: r["sample_timestamp"])
    assert _flat_paths(json.loads(rows[1]["extra_fields"])) == {"firmware": "4.2.1", "system.humidity": 41.5}
    assert dict(result.unknown_fields) == {"firmware": 1, "system.humidity": 1}
    assert_accounted(result)


@pytest.mark.parametrize("with_bad_line", [False, True], ids=["fast path", "line by line"])
def test_unknown_fields_too_long_for_extra_fields_are_rejected_and_the_rest_loads(with_bad_line):
    from medrobotics_dagster.column_types import JSON_TEXT_MAX_BYTES

    raw = raw_file()
    fits = sample(1, notes="é" * ((JSON_TEXT_MAX_BYTES - 20) // 2))  # 2 bytes a character: just fits
    too_long = sample(2, notes="é" * (JSON_TEXT_MAX_BYTES // 2))  # fewer characters than the limit, more bytes
    lines = [line(sample(0)), line(fits), line(too_long)] + ([b"{not json"] if with_bad_line else [])
    result = run((raw, body(*lines)))
    assert stamps_of(result) == expected_stamps(0, 1)
    kept = [r["extra_fields"] for r in result.samples.to_pylist() if r["extra_fields"]]
    assert len(kept) == 1 and len(kept[0].encode()) <= JSON_TEXT_MAX_BYTES
    rejected = sorted(line_rejections(result), key=lambda r: r.line_number)
    assert_rejected(rejected[0], raw.key, 3, "unknown fields", "bytes", str(JSON_TEXT_MAX_BYTES))
    assert_accounted(result)


def _flat_paths(document: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in document.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat_paths(value, path + "."))
        else:
            out[path] = value
    return out


@pytest.mark.parametrize(
    "override, field",
    [
        (
            {"system": {"temperature": 36.75, "motor_current": 1.2, "network_latency_ms": 12, "video_fps": "sixty"}},
            "system.video_fps",
        ),
        ({"tool": {"type": "grasper", "active": "yes"}}, "tool.active"),
        ({"tool": {"type": 123, "active": True}}, "tool.type"),
        ({"tool": "grasper"}, "tool"),
        ({"force_feedback": "2.5"}, "force_feedback"),
        ({"force_feedback": True}, "force_feedback"),
        ({"camera": {"zoom": 1.5, "lighting_level": 80.5}}, "camera.lighting_level"),
        ({"robot_id": 7}, "robot_id"),
        ({"procedure_id": 123}, "procedure_id"),
    ],
    ids=[
        "fps-text",
        "active-text",
        "type-number",
        "object-as-text",
        "number-as-text",
        "number-as-bool",
        "int-as-fraction",
        "robot-number",
        "procedure-number",
    ],
)
def test_known_field_that_changes_type_is_rejected_not_coerced(override, field):
    raw = raw_file()
    bad = line(sample(1, **override))
    result = run((raw, body(line(sample(0)), bad, line(sample(2)))))
    assert stamps_of(result) == expected_stamps(0, 2)
    assert_rejected(only_rejection(result), raw.key, 2, field, raw=bad)
    assert_accounted(result)


def test_drifted_type_in_one_file_does_not_reject_other_files():
    bad_file, good_file = raw_file(), raw_file(OTHER)
    bad = line(sample(1, tool={"type": "grasper", "active": "yes"}))
    result = run((bad_file, body(line(sample(0)), bad)), (good_file, body(*good_lines(3, OTHER))))
    assert result.samples.num_rows == 4
    assert_rejected(only_rejection(result), bad_file.key, 2, "tool.active", raw=bad)
    assert_accounted(result)


# ---------------------------------------------------------------------------------------------- raw text


def test_nul_bytes_and_invalid_utf8_in_a_bad_line_give_a_clean_raw_line():
    raw = raw_file()
    bad = b'{"procedure_id": "PROC\x00-000123", "sample_timestamp": "\xff\xfe2024'
    result = run((raw, body(line(sample(0)), bad, line(sample(2)))))
    assert stamps_of(result) == expected_stamps(0, 2)
    rejected = only_rejection(result)
    assert_rejected(rejected, raw.key, 2, "JSON")
    assert rejected.raw_line is not None and "\x00" not in rejected.raw_line
    rejected.raw_line.encode("utf-8")
    assert rejected.raw_line.startswith('{"procedure_id": "PROC')
    assert "000123" in rejected.raw_line
    assert_accounted(result)


def test_escaped_nul_inside_a_good_line_never_reaches_the_fact():
    """PostgreSQL text cannot hold NUL: such a value must be rejected (or cleaned), never passed on to fail
    the whole day's COPY."""
    raw = raw_file()
    nul = line(sample(1, tool={"type": "gras\u0000per", "active": True}))
    assert b"\\u0000" in nul
    result = run((raw, body(line(sample(0)), nul)))
    assert result.samples.num_rows >= 1
    for row in result.samples.to_pylist():
        for value in row.values():
            assert not (isinstance(value, str) and "\x00" in value), row
    assert_accounted(result)


def test_invalid_utf8_inside_a_json_string_is_rejected():
    """orjson refuses invalid UTF-8; the fast path must not let it through as an invalid Arrow string (COPY
    would then refuse the whole day)."""
    raw = raw_file()
    invalid = line(sample(1)).replace(b'"grasper"', b'"gr\xffasper"')
    result = run((raw, body(line(sample(0)), invalid, line(sample(2)))))  # run() validates the strings as UTF-8
    assert stamps_of(result) == expected_stamps(0, 2)
    rejected = only_rejection(result)
    assert_rejected(rejected, raw.key, 2)
    assert "\x00" not in rejected.raw_line
    assert_accounted(result)


def test_very_long_bad_line_is_cut_to_the_raw_line_limit():
    raw = raw_file()
    bad = b'{"procedure_id": "PROC-000123", "note": "' + b"a" * (RAW_LINE_MAX_CHARS * 5)  # never closed
    result = run((raw, body(line(sample(0)), bad)))
    rejected = only_rejection(result)
    assert_rejected(rejected, raw.key, 2, "JSON")
    assert len(rejected.raw_line) == RAW_LINE_MAX_CHARS
    assert rejected.raw_line == bad[:RAW_LINE_MAX_CHARS].decode()
    assert_accounted(result)


def test_long_multibyte_bad_line_is_cut_to_the_limit_in_characters():
    raw = raw_file()
    bad = ('{"note": "' + "é" * (RAW_LINE_MAX_CHARS * 2)).encode()
    result = run((raw, body(bad)))
    rejected = only_rejection(result)
    assert len(rejected.raw_line) == RAW_LINE_MAX_CHARS
    assert rejected.raw_line == bad.decode()[:RAW_LINE_MAX_CHARS]


# ---------------------------------------------------------------------------------------------- keys


def test_procedure_key_is_the_stable_procedure_key():
    result = run((raw_file(), body(*good_lines(2))), (raw_file(OTHER), body(*good_lines(2, OTHER))))
    by_procedure = dict(
        zip(
            result.samples.column("procedure_id").to_pylist(),
            result.samples.column("procedure_key").to_pylist(),
            strict=True,
        )
    )
    assert by_procedure == {PID: stable_procedure_key(PID), OTHER: stable_procedure_key(OTHER)}
    # the dbt macro stable_bigint_key: the first 60 bits of md5(id), a positive BIGINT
    assert stable_procedure_key(PID) == int(hashlib.md5(PID.encode()).hexdigest(), 16) >> (128 - 60)
    assert 0 < stable_procedure_key(PID) < 2**60


@pytest.mark.parametrize(
    "zone, utc, expected",
    [
        ("UTC", "2024-01-15T09:31:59.999Z", 93100),
        ("America/New_York", "2024-01-15T14:31:02.500Z", 93100),  # EST, UTC-5
        ("America/New_York", "2024-01-15T03:05:00Z", 220500),  # still the evening before, locally
        ("Asia/Kolkata", "2024-01-15T00:00:00Z", 53000),  # UTC+5:30
        ("America/New_York", "2024-03-10T06:59:00Z", 15900),  # 01:59 EST, just before the spring-forward gap
        ("America/New_York", "2024-03-10T07:00:00Z", 30000),  # 03:00 EDT: 02:xx does not exist that day
        ("America/New_York", "2024-03-10T12:00:00Z", 80000),  # EDT, UTC-4
        ("America/New_York", "2024-11-03T05:30:00Z", 13000),  # 01:30 EDT
        ("America/New_York", "2024-11-03T06:30:00Z", 13000),  # 01:30 EST, the repeated hour
    ],
)
def test_timestamp_key_is_the_local_hour_and_minute(zone, utc, expected):
    moment = datetime.fromisoformat(utc.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
    day = moment.date()
    procedures = {PID: ProcedureInfo(stable_procedure_key(PID), zone)}
    result = run((raw_file(day=day), body(line(sample(0, sample_timestamp=utc)))), procedures=procedures, day=day)
    assert result.rejected == []
    assert result.samples.column("timestamp_key").to_pylist() == [expected]


def test_timestamp_keys_of_several_zones_in_one_day():
    procedures = {
        PID: ProcedureInfo(stable_procedure_key(PID), "America/New_York"),
        OTHER: ProcedureInfo(stable_procedure_key(OTHER), "Europe/Berlin"),
    }
    day = date(2024, 3, 10)
    when = "2024-03-10T12:34:56Z"
    result = run(
        (raw_file(day=day), body(line(sample(0, sample_timestamp=when)))),
        (raw_file(OTHER, day=day), body(line(sample(0, OTHER, sample_timestamp=when)))),
        procedures=procedures,
        day=day,
    )
    keys = dict(
        zip(
            result.samples.column("procedure_id").to_pylist(),
            result.samples.column("timestamp_key").to_pylist(),
            strict=True,
        )
    )
    assert keys == {PID: 83400, OTHER: 133400}


def test_local_time_keys_over_every_minute_of_a_dst_day():
    from zoneinfo import ZoneInfo

    start = datetime(2024, 3, 10)
    moments = [start + timedelta(minutes=m, seconds=30) for m in range(24 * 60)]
    keys = local_time_keys(
        pa.chunked_array([pa.array(moments, pa.timestamp("us"))]),
        pa.chunked_array([pa.array(["America/New_York"] * len(moments))]),
    )
    zone = ZoneInfo("America/New_York")
    expected = []
    for moment in moments:
        local = moment.replace(tzinfo=UTC).astimezone(zone)
        expected.append(local.hour * 10000 + local.minute * 100)
    assert keys.to_pylist() == expected


def test_telemetry_key_is_stable_and_unique_per_procedure_and_timestamp():
    lines_a = [line(sample(0, sample_timestamp=stamp(0)[:-4] + f"{ms:03d}Z")) for ms in range(0, 1000, 7)]
    lines_b = [line(sample(0, OTHER, sample_timestamp=stamp(0)[:-4] + f"{ms:03d}Z")) for ms in range(0, 1000, 7)]
    files = [(raw_file(), body(*lines_a)), (raw_file(OTHER), body(*lines_b))]
    first = run(*files)
    second = parse_day(DAY, list(reversed(files)), PROCEDURES, LOADED_AT + timedelta(days=3))
    assert first.rejected == [] and first.samples.num_rows == 2 * len(lines_a)

    def keyed(result):
        return {
            (row["procedure_id"], row["sample_timestamp"]): row["telemetry_key"]
            for row in result.samples.select(["procedure_id", "sample_timestamp", "telemetry_key"]).to_pylist()
        }

    assert keyed(first) == keyed(second)
    keys = list(keyed(first).values())
    assert len(set(keys)) == len(keys)  # unique per (procedure, timestamp), also across procedures at the same instant
    assert all(0 < key < 2**63 for key in keys)


def test_telemetry_keys_do_not_collide_over_many_samples():
    procedure_keys = [stable_procedure_key(f"PROC-{i:06d}") for i in range(200)]
    base = int(datetime(2024, 1, 15).replace(tzinfo=UTC).timestamp() * 1_000_000)
    stamps = [base + i * 100_000 for i in range(500)]
    import numpy as np

    pk = np.repeat(np.array(procedure_keys, dtype=np.int64), len(stamps))
    st = np.tile(np.array(stamps, dtype=np.int64), len(procedure_keys))
    keys = telemetry_keys(pk, st)
    assert len(np.unique(keys)) == len(keys)
    assert (keys > 0).all()
    assert (telemetry_keys(pk, st) == keys).all()
