"""Failure alerts: real failed runs on an instance with run retries, published to moto's SNS over HTTP (read
back through an SQS subscription), to a local webhook, and never for runs the instance will retry."""

from __future__ import annotations

import json
import uuid

import boto3
import dagster as dg
import pytest

from medrobotics_dagster.defs.operations.alerts import (
    AlertChannel,
    alert_channel_for_environment,
    run_failure_alert_sensor,
)
from medrobotics_dagster.defs.operations.jobs import OPERATIONS_TAGS
from medrobotics_dagster.settings import ConfigError


@dg.asset(partitions_def=dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="UTC"))
def broken_load() -> None:
    raise RuntimeError("COPY into analytics.fact_procedures failed: disk full")


broken_job = dg.define_asset_job("broken_load_job", selection=[broken_load], tags=OPERATIONS_TAGS)
broken_defs = dg.Definitions(assets=[broken_load], jobs=[broken_job])


@pytest.fixture
def instance(tmp_path):
    """An instance with run retries on, as dagster.yaml configures them: it tags failed runs dagster/will_retry."""
    with dg.instance_for_test(
        temp_dir=str(tmp_path), overrides={"run_retries": {"enabled": True, "max_retries": 1}}
    ) as instance:
        yield instance


def failed_run_context(instance, channel: AlertChannel, tags: dict[str, str] | None = None):
    result = broken_defs.resolve_job_def("broken_load_job").execute_in_process(
        instance=instance, partition_key="2024-03-09", raise_on_error=False, tags=tags
    )
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    return dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert_sensor",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=run,
        resources={"alerts": channel},
    ).for_run_failure()


@pytest.fixture
def sns_topic(s3_endpoint, monkeypatch):
    """A topic on moto's server (the same one that serves S3) and an SQS queue subscribed to it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", s3_endpoint)
    sns = boto3.client("sns", endpoint_url=s3_endpoint)
    sqs = boto3.client("sqs", endpoint_url=s3_endpoint)
    topic = sns.create_topic(Name=f"medrobotics-etl-failures-{uuid.uuid4().hex[:6]}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"ops-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    def received() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        return [json.loads(m["Body"]) for m in messages]

    return topic, received


def test_a_failed_run_is_published_to_sns_with_its_job_partition_and_error(instance, sns_topic):
    topic, received = sns_topic
    context = failed_run_context(instance, AlertChannel(sns_topic_arn=topic, require_sns=True))
    assert context.dagster_run.tags["dagster/will_retry"] == "false"  # step failures are not re-run (job tag)
    run_failure_alert_sensor(context)
    [notification] = received()
    assert notification["Subject"] == "[medrobotics] broken_load_job failed (2024-03-09): step broken_load"
    assert f"Run {context.dagster_run.run_id} of broken_load_job failed." in notification["Message"]
    assert (
        "Step broken_load: RuntimeError: COPY into analytics.fact_procedures failed: disk full"
        in notification["Message"]
    )
    assert notification["MessageAttributes"]["partition"]["Value"] == "2024-03-09"


def test_a_run_that_will_be_retried_raises_no_alert(instance, sns_topic):
    topic, received = sns_topic
    # without the job's "no run retry on step failure" tag, the instance will re-run it: silence
    context = failed_run_context(
        instance, AlertChannel(sns_topic_arn=topic), tags={"dagster/retry_on_asset_or_op_failure": "true"}
    )
    assert context.dagster_run.tags["dagster/will_retry"] == "true"
    assert isinstance(run_failure_alert_sensor(context), dg.SkipReason)
    assert received() == []


def test_locally_a_failure_goes_to_the_log_and_the_webhook(instance, webhook, monkeypatch, caplog):
    url, posted = webhook
    monkeypatch.delenv("MEDROBOTICS_ALERT_SNS_TOPIC_ARN", raising=False)
    monkeypatch.setenv("MEDROBOTICS_ALERT_WEBHOOK_URL", url)
    context = failed_run_context(instance, alert_channel_for_environment("local"))
    run_failure_alert_sensor(context)
    [body] = posted
    assert body["job_name"] == "broken_load_job" and body["partition"] == "2024-03-09"
    assert body["failed_steps"] == [
        {"step": "broken_load", "error": "RuntimeError: COPY into analytics.fact_procedures failed: disk full"}
    ]


def test_prod_without_a_topic_fails_the_tick_naming_the_setting(instance, monkeypatch):
    monkeypatch.delenv("MEDROBOTICS_ALERT_SNS_TOPIC_ARN", raising=False)
    context = failed_run_context(instance, alert_channel_for_environment("prod"))
    with pytest.raises(ConfigError, match="MEDROBOTICS_ALERT_SNS_TOPIC_ARN"):
        run_failure_alert_sensor(context)


def test_every_operations_job_is_flagged_after_30_minutes():
    from medrobotics_dagster.definitions import defs

    for name in ("full_load_job", "dimensions_job", "procedures_job"):
        tags = defs.resolve_job_def(name).tags
        assert tags["dagster/max_runtime"] == "1800" and isinstance(tags["dagster/max_runtime"], str)
    assert defs.resolve_sensor_def("run_failure_alert_sensor").default_status == dg.DefaultSensorStatus.RUNNING
