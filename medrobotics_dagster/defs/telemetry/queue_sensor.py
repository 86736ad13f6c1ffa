"""For buckets with millions of files: S3 event notifications in an SQS queue instead of listing the prefix.

The bucket sends `s3:ObjectCreated:*` events for `raw/telemetry/` to a queue; each tick reads a bounded batch,
maps keys to days exactly as the listing sensor does and requests the same runs. Delivery is at least once: a
message seen twice yields the same run_key, which Dagster runs once. Messages are deleted once their runs are
requested; files of today stay in the queue (hidden for an hour) until their day is a partition.
"""

import json
from datetime import UTC, datetime
from urllib.parse import unquote_plus

import dagster as dg

from medrobotics_dagster.defs.telemetry.sensor import TelemetryCursor, evaluate, telemetry_job
from medrobotics_dagster.resources.lake import Lake, LakeObject
from medrobotics_dagster.resources.telemetry_queue import QUEUE_URL_SETTING, TelemetryQueue

RETRY_LATER_SECONDS = 3600


def objects_in(body: str, lake: Lake) -> list[LakeObject] | None:
    """The lake objects an S3 event notification announces (None: not an S3 notification at all)."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        return None
    if document.get("Event") == "s3:TestEvent":
        return []
    if not isinstance(document.get("Records"), list):
        return None
    prefix = getattr(lake.backend, "prefix", "")
    found = []
    for record in document["Records"]:
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            continue
        item = record.get("s3", {}).get("object", {})
        key = unquote_plus(item.get("key", ""))
        if not key.startswith(prefix):
            continue
        stamp = datetime.fromisoformat(
            record.get("eventTime", "").replace("Z", "+00:00") or "1970-01-01T00:00:00+00:00"
        )
        found.append(
            LakeObject(
                key=key[len(prefix) :], last_modified=stamp, etag=item.get("eTag", ""), size=int(item.get("size", 0))
            )
        )
    return found


def _receive(client, url: str, limit: int) -> list[dict]:
    messages: list[dict] = []
    while len(messages) < limit:
        batch = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
    return messages


def _delete(client, url: str, messages: list[dict]) -> None:
    for start in range(0, len(messages), 10):
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages[start : start + 10])
        ]
        client.delete_message_batch(QueueUrl=url, Entries=entries)


@dg.sensor(
    job=telemetry_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Queue mode of the telemetry sensor (S3 event notifications through SQS), for buckets too large to list."
    ),
)
def raw_telemetry_queue_sensor(context: dg.SensorEvaluationContext, lake: Lake, telemetry_queue: TelemetryQueue):
    url = telemetry_queue.resolved_url()
    if not url:
        return dg.SkipReason(f"no queue configured ({QUEUE_URL_SETTING})")
    client = telemetry_queue.client()
    messages = _receive(client, url, telemetry_queue.max_messages_per_tick)
    objects, by_message, unreadable = [], [], []
    for message in messages:
        announced = objects_in(message.get("Body", ""), lake)
        if announced is None:
            unreadable.append(message)
            continue
        objects.extend(announced)
        by_message.append((message, {obj.key for obj in announced}))
    if unreadable:
        context.log.warning(f"deleted {len(unreadable)} message(s) that are not S3 event notifications")
    requests, cursor = evaluate(objects, TelemetryCursor(), set(), datetime.now(UTC), context.log)
    waiting = [message for message, keys in by_message if keys & set(cursor.pending)]
    for message in waiting:  # files of today: back in the queue in an hour
        client.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=RETRY_LATER_SECONDS
        )
    _delete(client, url, unreadable + [message for message, _ in by_message if message not in waiting])
    if requests:
        context.log.info(f"{len(messages)} message(s), {len(objects)} file(s); requesting {len(requests)} run(s)")
    return dg.SensorResult(run_requests=requests)
