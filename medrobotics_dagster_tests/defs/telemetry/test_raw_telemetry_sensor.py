"""The raw telemetry sensor on a lake directory and on S3 (moto over HTTP): misses nothing, repeats nothing, runs per
day."""

import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from medrobotics_dagster.defs.telemetry.assets import SAMPLES_KEY
from medrobotics_dagster.defs.telemetry.sensor import (
    MAX_DAYS_PER_RUN,
    TelemetryCursor,
    evaluate,
    raw_telemetry_sensor,
)
from medrobotics_dagster.resources.lake import Lake, LakeObject


@pytest.fixture(params=["directory", "s3"])
def lake(request, tmp_path) -> Lake:
    if request.param == "directory":
        return Lake(url=str(tmp_path / "lake"))
    bucket = request.getfixturevalue("s3_bucket")
    return Lake(url=f"s3://{bucket}/lake")


def put(lake: Lake, procedure: str, day: str, body: bytes = b'{"x": 1}\n', suffix: str = ".json") -> str:
    key = f"raw/telemetry/procedure-{procedure}/{day}{suffix}"
    lake.put(key, body)
    return key


def tick(lake: Lake, cursor: str | None = None, instance: dg.DagsterInstance | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance or dg.DagsterInstance.ephemeral(), cursor=cursor, resources={"lake": lake}
    )
    return raw_telemetry_sensor(context)


def requested(result: dg.SensorResult) -> list[str]:
    """Each run request as 'day' or 'first..last'."""
    out = []
    for request in result.run_requests:
        start = request.tags.get("dagster/asset_partition_range_start")
        out.append(f"{start}..{request.tags['dagster/asset_partition_range_end']}" if start else request.partition_key)
    return sorted(out)


def test_first_tick_requests_every_unloaded_day_as_contiguous_ranges(lake):
    for day in ("20240101", "20240102", "20240103", "20240110"):
        put(lake, "PROC-000001", day)
    put(lake, "PROC-000002", "20240102")  # two files of one day: still one run
    result = tick(lake)
    assert requested(result) == ["2024-01-01..2024-01-03", "2024-01-10"]


def test_first_tick_skips_days_already_materialized(lake):
    put(lake, "PROC-000001", "20240101")
    put(lake, "PROC-000001", "20240102")
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization(SAMPLES_KEY, partition="2024-01-01"))
    assert requested(tick(lake, instance=instance)) == ["2024-01-02"]


def test_a_repeated_tick_and_a_restart_with_the_saved_cursor_request_nothing(lake):
    put(lake, "PROC-000001", "20240101")
    first = tick(lake)
    assert requested(first) == ["2024-01-01"]
    again = tick(lake, first.cursor)
    assert again.run_requests == []
    saved = TelemetryCursor.from_json(again.cursor).to_json()  # a restarted daemon reads the stored cursor
    assert tick(lake, saved).run_requests == []


def test_a_key_that_sorts_before_everything_seen_is_not_missed(lake):
    put(lake, "PROC-900000", "20240105")
    cursor = tick(lake).cursor
    put(lake, "PROC-000001", "20240105")  # sorts first, arrives last
    assert requested(tick(lake, cursor)) == ["2024-01-05"]


def test_files_written_in_the_same_second_as_the_watermark_are_not_missed(lake):
    put(lake, "PROC-000001", "20240201")
    cursor = tick(lake).cursor
    put(lake, "PROC-000002", "20240202")  # same second on S3 (one-second LastModified) as the first file
    assert requested(tick(lake, cursor)) == ["2024-02-02"]


def test_an_overwritten_file_triggers_a_new_run_with_a_new_run_key(lake):
    put(lake, "PROC-000001", "20240301", b'{"v": 1}\n')
    first = tick(lake)
    time.sleep(1.1)  # a later LastModified, as a real overwrite has
    put(lake, "PROC-000001", "20240301", b'{"v": 2}\n')
    second = tick(lake, first.cursor)
    assert requested(second) == ["2024-03-01"]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key


def test_a_late_file_for_an_old_day_reloads_that_day(lake):
    put(lake, "PROC-000001", "20240401")
    cursor = tick(lake).cursor
    put(lake, "PROC-000777", "20230115")
    assert requested(tick(lake, cursor)) == ["2023-01-15"]


def test_malformed_keys_and_days_before_history_are_skipped_not_requested(lake):
    lake.put("raw/telemetry/junk.txt", b"x")
    put(lake, "PROC-000001", "2024-01-01")  # dashes: not the contract
    put(lake, "PROC-000001", "20220101")  # before the partitions start
    put(lake, "PROC-000001", "20240230")  # no such date
    result = tick(lake)
    assert result.run_requests == []
    assert tick(lake, result.cursor).run_requests == []


def test_a_burst_of_files_for_100_days_is_a_handful_of_runs(lake):
    start = datetime(2024, 1, 1)
    for i in range(100):
        put(lake, f"PROC-{i:06d}", (start + timedelta(days=i)).strftime("%Y%m%d"))
    result = tick(lake)
    assert len(result.run_requests) == -(-100 // MAX_DAYS_PER_RUN)
    assert len({r.run_key for r in result.run_requests}) == len(result.run_requests)


def test_gzip_files_are_requested_like_plain_ones(lake):
    put(lake, "PROC-000001", "20240105", suffix=".json.gz")
    assert requested(tick(lake)) == ["2024-01-05"]


def obj(key: str, at: datetime, etag: str = "e1") -> LakeObject:
    return LakeObject(key=key, last_modified=at, etag=etag, size=10)


class Log:
    def __init__(self):
        self.lines = []

    def warning(self, text):
        self.lines.append(text)


def test_a_file_of_today_waits_until_its_day_is_a_partition():
    now = datetime(2024, 5, 10, 12, tzinfo=UTC)
    today = obj("raw/telemetry/procedure-PROC-000001/20240510.json", now)
    requests, cursor = evaluate([today], TelemetryCursor(), set(), now, Log())
    assert requests == [] and today.key in cursor.pending
    later = now + timedelta(days=1, hours=3)  # the 03:00 tick of the next day: 2024-05-10 is a partition now
    requests, cursor = evaluate([today], TelemetryCursor.from_json(cursor.to_json()), set(), later, Log())
    assert [r.partition_key for r in requests] == ["2024-05-10"]
    assert cursor.pending == {}


def test_skipped_keys_are_logged():
    now = datetime(2024, 5, 10, tzinfo=UTC)
    log = Log()
    evaluate([obj("raw/telemetry/nope.json", now)], TelemetryCursor(), set(), now, log)
    assert any("do not follow the contract" in line and "nope.json" in line for line in log.lines)


def test_objects_older_than_the_overlap_window_are_taken_as_handled_and_the_cursor_stays_small():
    now = datetime(2024, 5, 10, tzinfo=UTC)
    objects = [obj(f"raw/telemetry/procedure-PROC-{i:06d}/20240101.json", now - timedelta(hours=i)) for i in range(48)]
    _, cursor = evaluate(objects, TelemetryCursor(), set(), now, Log())
    assert len(cursor.handled) == 1  # only what lies inside the overlap window is remembered
    requests, _ = evaluate(objects, cursor, set(), now, Log())
    assert requests == []


def test_a_deleted_file_reloads_its_day(lake):
    put(lake, "PROC-000001", "20240601", b'{"v": 1}\n')
    kept = put(lake, "PROC-000002", "20240601", b'{"v": 2}\n')
    put(lake, "PROC-000003", "20240602")
    first = tick(lake)
    assert requested(first) == ["2024-06-01..2024-06-02"]
    lake.delete("raw/telemetry/procedure-PROC-000001/20240601.json")  # e.g. the file that broke the error budget
    second = tick(lake, first.cursor)
    assert requested(second) == ["2024-06-01"]
    assert tick(lake, second.cursor).run_requests == []  # once
    lake.delete(kept)  # the day's last file: the day reloads empty
    third = tick(lake, second.cursor)
    assert requested(third) == ["2024-06-01"]
    assert len({r.run_key for r in (*first.run_requests, *second.run_requests, *third.run_requests)}) == 3


def test_identical_bytes_uploaded_again_start_no_run():
    now = datetime(2024, 6, 10, 12, tzinfo=UTC)
    old = obj("raw/telemetry/procedure-PROC-000001/20240601.json", now - timedelta(hours=3), etag="same")
    recent = obj("raw/telemetry/procedure-PROC-000002/20240602.json", now, etag="b")
    requests, cursor = evaluate([old, recent], TelemetryCursor.from_json(None), set(), now, Log())
    assert len(requests) == 1
    cursor = TelemetryCursor.from_json(cursor.to_json())
    assert old.key not in cursor.handled  # outside the overlap window: only the day's version remembers it
    again = obj(old.key, now + timedelta(minutes=1), etag="same")  # re-uploaded: new LastModified, same bytes
    requests, cursor = evaluate([again, recent], cursor, set(), now, Log())
    assert requests == []
    changed = obj(old.key, now + timedelta(minutes=2), etag="other")
    requests, _ = evaluate([changed, recent], cursor, set(), now, Log())
    assert [r.partition_key for r in requests] == ["2024-06-01"]


def test_archived_files_still_count_for_their_days_version(lake):
    key = put(lake, "PROC-000001", "20240601")
    first = tick(lake)
    assert requested(first) == ["2024-06-01"]
    lake.copy(key, "archive/telemetry/dt=2024-06-01/procedure-PROC-000001/20240601.json")  # what the load does
    lake.delete(key)
    assert tick(lake, first.cursor).run_requests == []


def test_the_sensor_interval_is_a_setting_and_a_bad_value_names_it(monkeypatch):
    from medrobotics_dagster import settings

    monkeypatch.delenv(settings.FILE_SENSOR_INTERVAL, raising=False)
    assert settings.file_sensor_interval() == 30 == raw_telemetry_sensor.minimum_interval_seconds
    monkeypatch.setenv(settings.FILE_SENSOR_INTERVAL, "5")
    assert settings.file_sensor_interval() == 5
    for bad in ("0", "-3", "1.5", "soon"):
        monkeypatch.setenv(settings.FILE_SENSOR_INTERVAL, bad)
        with pytest.raises(settings.ConfigError, match="MEDROBOTICS_FILE_SENSOR_INTERVAL_S: expected a whole number"):
            settings.file_sensor_interval()
