"""The Lake behaves the same on a directory and on S3 (a moto server over HTTP)."""

from __future__ import annotations

import os
import uuid

import boto3
import pytest

from medrobotics_dagster import settings
from medrobotics_dagster.resources.lake import Lake, LakeObjectNotFound


@pytest.fixture
def plain_bucket(s3_endpoint) -> str:
    """A bucket without the deny-unencrypted policy: moto ignores the policy's condition and denies every put."""
    name = f"mr-lake-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["directory", "s3"])
def lake(request, tmp_path) -> Lake:
    if request.param == "directory":
        return Lake(url=str(tmp_path / "lake"))
    return Lake(url=f"s3://{request.getfixturevalue('plain_bucket')}/lake-root")


def test_put_get_round_trip(lake):
    lake.put("raw/a.json", b'{"x": 1}\n')
    assert lake.get("raw/a.json") == b'{"x": 1}\n'
    lake.put("raw/a.json", b"replaced")
    assert lake.get("raw/a.json") == b"replaced"


def test_list_prefix_relative_keys_and_metadata(lake):
    lake.put("raw/telemetry/procedure-1/20240115.json", b"one")
    lake.put("raw/telemetry/procedure-2/20240116.json", b"two!")
    lake.put("raw/telemetryx/other.json", b"x")
    lake.put("staging/t.parquet", b"p")

    listed = list(lake.list("raw/telemetry/"))
    assert [o.key for o in listed] == [
        "raw/telemetry/procedure-1/20240115.json",
        "raw/telemetry/procedure-2/20240116.json",
    ]
    assert [o.size for o in listed] == [3, 4]
    for obj in listed:
        assert obj.last_modified.tzinfo is not None and obj.last_modified.utcoffset().total_seconds() == 0
        assert obj.etag
    # A plain string prefix, as in S3: 'raw/telemetry' also matches 'raw/telemetryx/'.
    assert [o.key for o in lake.list("raw/telemetry")][-1] == "raw/telemetryx/other.json"
    assert [o.key for o in lake.list("raw/telemetry/procedure-1/2024")] == ["raw/telemetry/procedure-1/20240115.json"]
    assert len(list(lake.list())) == 4


def test_a_directory_lake_lists_only_finished_regular_files(tmp_path):
    lake = Lake(url=str(tmp_path / "lake"))
    lake.put("raw/telemetry/procedure-1/20240115.json", b"one")
    root = tmp_path / "lake" / "raw" / "telemetry"
    (root / "procedure-1" / ".tmp-20240116.json").write_bytes(b"half an upload")
    (root / "procedure-2").mkdir()
    (root / "procedure-2" / "20240116.json").symlink_to(root / "gone.json")  # a broken link
    (root / "procedure-3").mkdir()  # an empty folder
    assert [o.key for o in lake.list("raw/")] == ["raw/telemetry/procedure-1/20240115.json"]


def test_etag_changes_with_content(lake):
    lake.put("raw/f.json", b"aaaa")
    (before,) = lake.list("raw/f.json")
    lake.put("raw/f.json", b"bbbb")  # same size, immediately after
    (after,) = lake.list("raw/f.json")
    assert after.etag != before.etag
    assert after.last_modified >= before.last_modified


def test_copy_and_delete(lake):
    lake.put("raw/x/source.json", b"payload")
    lake.copy("raw/x/source.json", "archive/2024/01/source.json")
    assert lake.get("archive/2024/01/source.json") == b"payload"
    assert lake.get("raw/x/source.json") == b"payload"

    lake.delete("raw/x/source.json")
    assert [o.key for o in lake.list("raw/")] == []
    with pytest.raises(LakeObjectNotFound):
        lake.get("raw/x/source.json")
    lake.delete("raw/x/source.json")  # deleting a missing object is not an error
    with pytest.raises(LakeObjectNotFound):
        lake.copy("raw/x/source.json", "elsewhere.json")


def test_nested_keys(lake):
    key = "staging/a/b/c/dt=2024-01-15/part-0.parquet"
    lake.put(key, b"deep")
    assert [o.key for o in lake.list("staging/a/")] == [key]
    assert lake.get(key) == b"deep"


def test_missing_prefix_lists_nothing(lake):
    assert list(lake.list("nothing/here/")) == []
    lake.put("file.txt", b"x")
    assert list(lake.list("file.txt/below")) == []


def test_uri(lake, tmp_path):
    uri = lake.uri("staging/t.parquet")
    if lake.url.startswith("s3://"):
        assert uri == f"{lake.url}/staging/t.parquet"
    else:
        assert uri == (tmp_path / "lake" / "staging" / "t.parquet").resolve().as_uri()


@pytest.mark.parametrize("key", ["../x", "a/../../x", "/etc/passwd", "a//b", "./a"])
def test_key_escaping_root_is_rejected(lake, key):
    for call in (
        lambda: lake.put(key, b"x"),
        lambda: lake.get(key),
        lambda: lake.uri(key),
        lambda: list(lake.list(key)),
    ):
        with pytest.raises(ValueError, match="lake key"):
            call()


def test_s3_writes_ask_for_server_side_encryption(plain_bucket):
    lake = Lake(url=f"s3://{plain_bucket}/root")
    lake.put("raw/a.json", b"a")
    lake.copy("raw/a.json", "archive/a.json")
    client = boto3.client("s3")
    for key in ("root/raw/a.json", "root/archive/a.json"):
        assert client.head_object(Bucket=plain_bucket, Key=key)["ServerSideEncryption"] == "AES256"


def test_s3_without_prefix_keys_are_bucket_keys(plain_bucket):
    lake = Lake(url=f"s3://{plain_bucket}")
    lake.put("raw/a.json", b"a")
    assert [o.key for o in lake.list("raw/")] == ["raw/a.json"]
    assert lake.uri("raw/a.json") == f"s3://{plain_bucket}/raw/a.json"


def test_s3_missing_bucket_is_a_config_error(s3_endpoint):
    with pytest.raises(settings.ConfigError, match=settings.LAKE_URL):
        list(Lake(url=f"s3://mr-missing-{uuid.uuid4().hex[:8]}/p").list())


@pytest.mark.parametrize("url", ["ftp://x", "s3://", "s3:///prefix", "/dev/null/x"])
def test_misconfigured_url_is_a_config_error(url):
    with pytest.raises(settings.ConfigError, match=settings.LAKE_URL):
        Lake(url=url).list()


def test_directory_under_a_regular_file_is_a_config_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(settings.ConfigError, match=settings.LAKE_URL):
        Lake(url=str(blocker / "lake")).put("k", b"x")


def test_unset_url_falls_back_to_the_environment_then_home(medrobotics_home, monkeypatch, tmp_path):
    assert Lake().resolved_url() == str(medrobotics_home / "lake")
    monkeypatch.setenv(settings.LAKE_URL, str(tmp_path / "elsewhere"))
    Lake().put("k", b"x")
    assert (tmp_path / "elsewhere" / "k").read_bytes() == b"x"


def test_s3_writes_use_sse_kms_when_a_key_is_configured(plain_bucket, monkeypatch):
    import boto3

    kms_key = boto3.client("kms", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"]).create_key()["KeyMetadata"]["Arn"]
    monkeypatch.setenv("MEDROBOTICS_LAKE_KMS_KEY_ID", kms_key)
    lake = Lake(url=f"s3://{plain_bucket}/lake")
    lake.put("a/b.json", b"x")
    lake.copy("a/b.json", "a/c.json")
    client = boto3.client("s3")
    for key in ("lake/a/b.json", "lake/a/c.json"):
        head = client.head_object(Bucket=plain_bucket, Key=key)
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", kms_key)


def test_a_directory_lake_is_refused_in_production(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDROBOTICS_ENV", "prod")
    with pytest.raises(settings.ConfigError, match="MEDROBOTICS_LAKE_URL.*s3://"):
        Lake(url=str(tmp_path / "lake")).put("x", b"x")
