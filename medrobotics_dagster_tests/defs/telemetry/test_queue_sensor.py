"""The queue mode of the telemetry sensor against moto's S3 and SQS over HTTP, with real bucket notifications."""

from datetime import UTC, datetime

import boto3
import dagster as dg
import pytest

from medrobotics_dagster.defs.telemetry.queue_sensor import raw_telemetry_queue_sensor
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.resources.telemetry_queue import TelemetryQueue


@pytest.fixture
def queue(s3_endpoint, s3_bucket, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", s3_endpoint)  # moto's server answers every service
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"q-{s3_bucket}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("s3").put_bucket_notification_configuration(
        Bucket=s3_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "lake/raw/telemetry/"}]}},
                }
            ]
        },
    )
    return url


@pytest.fixture
def lake(s3_bucket) -> Lake:
    return Lake(url=f"s3://{s3_bucket}/lake")


def tick(lake, queue_url):
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(),
        resources={"lake": lake, "telemetry_queue": TelemetryQueue(queue_url=queue_url)},
    )
    return raw_telemetry_queue_sensor(context)


def waiting(queue_url) -> tuple[int, int]:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_notified_files_become_runs_per_day_and_their_messages_are_deleted(lake, queue):
    lake.put("raw/telemetry/procedure-PROC-000002/20240102.json", b"{}\n")
    lake.put("raw/telemetry/procedure-PROC-000001/20240101.json", b"{}\n")
    lake.put("raw/telemetry/procedure-PROC 000003/20240101.json.gz", b"x")  # a space: '+' in the event's key
    lake.put("raw/telemetry/not-the-contract.txt", b"x")
    lake.put("staging/elsewhere.parquet", b"x")  # outside the notification's prefix
    result = tick(lake, queue)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) == (
        "2024-01-01",
        "2024-01-02",
    )
    assert waiting(queue) == (0, 0)
    assert tick(lake, queue).run_requests == []


def test_a_redelivered_message_asks_for_the_same_run_and_an_overwrite_for_a_new_one(lake, queue):
    lake.put("raw/telemetry/procedure-PROC-000001/20240105.json", b"{}\n")
    sqs = boto3.client("sqs")
    body = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    s3_event = next(m for m in body if "Records" in m["Body"])["Body"]
    sqs.send_message(QueueUrl=queue, MessageBody=s3_event)  # at-least-once delivery: the same event again
    first = tick(lake, queue)
    again = (sqs.send_message(QueueUrl=queue, MessageBody=s3_event), tick(lake, queue))[1]
    assert [r.run_key for r in again.run_requests] == [r.run_key for r in first.run_requests]
    lake.put("raw/telemetry/procedure-PROC-000001/20240105.json", b'{"v": 2}\n')
    assert tick(lake, queue).run_requests[0].run_key != first.run_requests[0].run_key


def test_a_file_of_today_stays_in_the_queue_until_its_day_closes(lake, queue):
    today = datetime.now(UTC).strftime("%Y%m%d")
    lake.put(f"raw/telemetry/procedure-PROC-000001/{today}.json", b"{}\n")
    assert tick(lake, queue).run_requests == []
    assert waiting(queue) == (0, 1)  # hidden for an hour, not deleted


def test_messages_that_are_not_s3_notifications_are_dropped_with_a_warning(lake, queue):
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody="hello")
    assert tick(lake, queue).run_requests == []
    assert waiting(queue) == (0, 0)


def test_without_a_queue_the_sensor_skips(lake, monkeypatch):
    monkeypatch.delenv("MEDROBOTICS_TELEMETRY_QUEUE_URL", raising=False)
    result = tick(lake, None)
    assert isinstance(result, dg.SkipReason) and "MEDROBOTICS_TELEMETRY_QUEUE_URL" in result.skip_message
