"""`generate` against a real PostgreSQL and a directory or S3 lake."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime

import pytest

from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.settings import ConfigError
from medrobotics_dagster.synthetic.errors import SourceNotEmpty
from medrobotics_dagster.synthetic.generator import generate
from medrobotics_dagster_tests.synthetic.helpers import lake_files, query, table_rows
from medrobotics_dagster_tests.synthetic.test_world import KEY, check_sample

SMALL = 0.02  # 1 facility, 1 robot, 2 surgeons, 100 procedures, 4 maintenance logs


def test_scale_one_counts_and_samples(source_url, tmp_path):
    summary = generate(source_url, Lake(url=str(tmp_path / "lake")), scale=1.0, seed=42)
    counts = {table: len(rows) for table, rows in table_rows(source_url).items()}
    assert counts == {
        "facilities": 10,
        "surgeons": 100,
        "surgical_robots": 50,
        "surgical_procedures": 5000,
        "procedure_outcomes": 5000,
        "robot_maintenance_logs": 200,
    }
    assert {k: summary[k] for k in counts} == counts
    assert 440_000 < summary["telemetry_samples"] < 480_000
    files = list((tmp_path / "lake" / "raw" / "telemetry").rglob("*.json"))
    assert len(files) == summary["telemetry_files"] > 5000  # some procedures cross UTC midnight
    days = query(source_url, "SELECT min(start_time)::date, max(start_time)::date FROM surgical_procedures")
    assert date(2023, 1, 1) <= days[0][0] <= date(2023, 1, 3) and days[0][1] == date(2024, 12, 31)


def test_small_scale_counts(source_url, tmp_path):
    summary = generate(source_url, Lake(url=str(tmp_path / "lake")), scale=0.1, seed=1)
    counts = {table: len(rows) for table, rows in table_rows(source_url).items()}
    assert counts == {
        "facilities": 1,
        "surgeons": 10,
        "surgical_robots": 5,
        "surgical_procedures": 500,
        "procedure_outcomes": 500,
        "robot_maintenance_logs": 20,
    }
    assert summary["telemetry_samples"] == sum(
        len(body.splitlines()) for body in lake_files(tmp_path / "lake").values()
    )


def test_same_seed_same_rows_and_bytes_other_seed_differs(make_database, tmp_path):
    urls = [make_database("source") for _ in range(3)]
    for url, name, seed in zip(urls, ("a", "b", "c"), (5, 5, 6), strict=True):
        generate(url, Lake(url=str(tmp_path / name)), scale=0.05, seed=seed)
    rows = [table_rows(url) for url in urls]
    files = [lake_files(tmp_path / name) for name in ("a", "b", "c")]
    assert rows[0] == rows[1] and files[0] == files[1]
    assert rows[0]["surgical_procedures"] != rows[2]["surgical_procedures"]
    assert files[0] != files[2]


def test_telemetry_files_obey_the_contract(source_url, tmp_path):
    generate(source_url, Lake(url=str(tmp_path / "lake")), scale=SMALL, seed=3)
    rows = query(source_url, "SELECT procedure_id, robot_id, start_time, end_time FROM surgical_procedures")
    procedures = {pid: (robot, start, end) for pid, robot, start, end in rows}
    samples: Counter = Counter()
    for key, body in lake_files(tmp_path / "lake").items():
        match = KEY.match(key)
        assert match, key
        procedure_id, day = match.groups()
        robot, start, end = procedures[procedure_id]
        for line in body.decode().splitlines():
            sample = json.loads(line)
            check_sample(sample, line, procedure_id, robot, day)
            stamp = datetime.fromisoformat(sample["sample_timestamp"].replace("Z", "+00:00"))
            assert start <= stamp < end
            samples[procedure_id] += 1
    assert set(samples) == set(procedures)
    assert all(80 <= n <= 104 for n in samples.values())


def test_refuses_a_non_empty_source_and_reset_replaces_it(source_url, tmp_path):
    lake = Lake(url=str(tmp_path / "lake"))
    generate(source_url, lake, scale=SMALL, seed=1)
    first = table_rows(source_url)
    with pytest.raises(SourceNotEmpty, match="--reset"):
        generate(source_url, lake, scale=SMALL, seed=2)
    assert table_rows(source_url) == first  # untouched
    stray = "raw/telemetry/procedure-PROC-999999/20240101.json"
    lake.put(stray, b"{}\n")
    summary = generate(source_url, lake, scale=SMALL, seed=2, reset=True)
    assert table_rows(source_url) != first
    keys = {o.key for o in lake.list("raw/telemetry/")}
    assert stray not in keys and len(keys) == summary["telemetry_files"]


def test_refuses_a_lake_that_already_holds_telemetry(source_url, tmp_path):
    lake = Lake(url=str(tmp_path / "lake"))
    lake.put("raw/telemetry/procedure-PROC-000001/20240101.json", b"{}\n")
    with pytest.raises(SourceNotEmpty, match="raw telemetry"):
        generate(source_url, lake, scale=SMALL)
    assert query(source_url, "SELECT to_regclass('public.facilities')") == [(None,)]  # rolled back


def test_unusable_lake_leaves_the_source_empty(source_url, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError) as info:
        generate(source_url, Lake(url=str(blocker / "lake")), scale=SMALL)
    assert info.value.setting == "MEDROBOTICS_LAKE_URL"
    assert query(source_url, "SELECT to_regclass('public.facilities')") == [(None,)]


def test_writes_to_s3_with_server_side_encryption(source_url, s3_bucket):
    lake = Lake(url=f"s3://{s3_bucket}/lake")
    summary = generate(source_url, lake, scale=SMALL, seed=4)
    objects = list(lake.list("raw/telemetry/"))
    assert len(objects) == summary["telemetry_files"]
    assert all(re.match(r"^raw/telemetry/procedure-PROC-\d{6}/\d{8}\.json$", o.key) for o in objects)
    body = lake.get(objects[0].key).decode()
    assert json.loads(body.splitlines()[0])["procedure_id"] in objects[0].key
    generate(source_url, lake, scale=SMALL, seed=5, reset=True)
    assert len(list(lake.list("raw/telemetry/"))) > 0


def test_missing_bucket_names_the_lake_setting(source_url, s3_endpoint):
    with pytest.raises(ConfigError) as info:
        generate(source_url, Lake(url="s3://no-such-bucket-mr/lake"), scale=SMALL)
    assert info.value.setting == "MEDROBOTICS_LAKE_URL"


def test_unreachable_database_names_the_source_setting(tmp_path):
    with pytest.raises(ConfigError) as info:
        generate("postgresql://postgres@127.0.0.1:1/x", Lake(url=str(tmp_path / "lake")), scale=SMALL)
    assert info.value.setting == "MEDROBOTICS_SOURCE_DB_URL"
