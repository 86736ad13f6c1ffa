"""Failure alerts to the operations team (docs/run-modes.md, "Alerts"), the Dagster way.

`run_failure_alert_sensor` watches every run of this code location. A failed run is reported once, with its
job, partition, the failing steps and their errors:
- prod: published to the SNS topic `MEDROBOTICS_ALERT_SNS_TOPIC_ARN` (the operations team subscribes to it);
- local: written to the sensor's log, and POSTed as JSON to `MEDROBOTICS_ALERT_WEBHOOK_URL` when set.
Runs tagged `dagster/will_retry=true` stay silent: the instance re-runs them, and only the last attempt's
failure is news. Runs over 30 minutes are failed by run monitoring ("Exceeded maximum runtime of 1800
seconds"), so the same sensor reports them.
"""

from __future__ import annotations

import json
import os
import urllib.request

import dagster as dg
from pydantic import Field

from medrobotics_dagster import settings
from medrobotics_dagster.error_text import first_line
from medrobotics_dagster.partitions import RANGE_END_TAG, RANGE_START_TAG

SNS_TOPIC_SETTING = "MEDROBOTICS_ALERT_SNS_TOPIC_ARN"
WEBHOOK_SETTING = "MEDROBOTICS_ALERT_WEBHOOK_URL"
UI_URL_SETTING = "MEDROBOTICS_DAGSTER_UI_URL"
LOCAL_UI_URL = "http://127.0.0.1:3000"
WILL_RETRY_TAG = "dagster/will_retry"
SNS_SUBJECT_LIMIT = 100  # SNS: ASCII, no newlines, at most 100 characters


class AlertChannel(dg.ConfigurableResource):
    """Where alerts go: an SNS topic (prod), an optional webhook, and always the log."""

    sns_topic_arn: str | None = Field(
        default=None, description=f"SNS topic ARN. Unset: {SNS_TOPIC_SETTING} when publishing."
    )
    webhook_url: str | None = Field(
        default=None, description=f"HTTP(S) URL that receives a JSON POST. Unset: {WEBHOOK_SETTING}."
    )
    require_sns: bool = Field(
        default=False,
        description="Refuse to run without a topic (prod): a missing topic fails the sensor tick, visibly.",
    )
    webhook_timeout_s: float = 10.0

    def topic(self) -> str | None:
        return self.sns_topic_arn or os.environ.get(SNS_TOPIC_SETTING, "").strip() or None

    def webhook(self) -> str | None:
        return self.webhook_url or os.environ.get(WEBHOOK_SETTING, "").strip() or None

    def publish(self, subject: str, message: str, details: dict, log) -> list[str]:
        """Send one alert to every configured channel; returns the channels it went to ("log" always)."""
        log.error(f"{subject}\n{message}")
        sent = ["log"]
        topic = self.topic()
        if topic is None and self.require_sns:
            raise settings.ConfigError(SNS_TOPIC_SETTING, "is required when MEDROBOTICS_ENV=prod (failure alerts)")
        if topic:
            import boto3  # the endpoint comes from AWS_ENDPOINT_URL_SNS when set

            safe_subject = subject.encode("ascii", "replace").decode().replace("\n", " ")[:SNS_SUBJECT_LIMIT]
            boto3.client("sns").publish(
                TopicArn=topic,
                Subject=safe_subject,
                Message=message,
                MessageAttributes={
                    key: {"DataType": "String", "StringValue": str(value)}
                    for key, value in details.items()
                    if key in ("job_name", "run_id", "partition") and value
                },
            )
            sent.append("sns")
        url = self.webhook()
        if url:
            body = json.dumps({"subject": subject, "message": message, **details}).encode()
            request = urllib.request.Request(
                url, data=body, headers={"Content-Type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(request, timeout=self.webhook_timeout_s) as response:
                response.read()
            sent.append("webhook")
        return sent


def alert_channel_for_environment(environment: str | None = None) -> AlertChannel:
    """prod: SNS required; local: log, plus the webhook when configured."""
    return AlertChannel(require_sns=(environment or settings.environment()) == "prod")


def partition_of(run: dg.DagsterRun) -> str | None:
    tags = run.tags
    if tags.get("dagster/partition"):
        return tags["dagster/partition"]
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    return f"{start}...{end}" if start and end else None


def ui_url() -> str:
    """The Dagster UI's address for links in alerts (the local `dagster dev` one unless configured)."""
    return (os.environ.get(UI_URL_SETTING, "").strip() or LOCAL_UI_URL).rstrip("/")


def step_causes(context: dg.RunFailureSensorContext) -> list[dict]:
    """Each failed step with the first line of its cause: a `dg.Failure`'s own description (already the one
    line an operator needs), else the innermost error's message."""
    steps = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        described = data.user_failure_data.description if data and data.user_failure_data else None
        error = data.error if data else None
        cause = error.cause if error is not None and error.cause is not None else error
        text = described or (cause.message if cause is not None else event.message)
        steps.append({"step": event.step_key, "error": first_line(text)})
    return steps


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[dict]:
    """The run's failed asset checks: asset, check, its description (the days and figures) and metadata."""
    out = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        if evaluation.passed:
            continue
        metadata = {key: value.value for key, value in evaluation.metadata.items()}
        out.append(
            {
                "asset": evaluation.asset_key.to_user_string(),
                "check": evaluation.check_name,
                "severity": evaluation.severity.value,
                "description": first_line(evaluation.description),
                "metadata": json.loads(json.dumps(metadata, default=str)),
            }
        )
    return out


def failure_report(context: dg.RunFailureSensorContext) -> tuple[str, str, dict]:
    """(subject, message, details) of a failed run, enough to act on without opening the UI: run, job,
    partition range, each failed step with the first line of its cause, each failed check with its days and
    figures, and the run's UI link."""
    run = context.dagster_run
    partition = partition_of(run)
    steps, checks = step_causes(context), failed_checks(context.instance, run.run_id)
    what = f"check {checks[0]['check']}" if checks else (f"step {steps[0]['step']}" if steps else "run")
    subject = f"[medrobotics] {run.job_name} failed" + (f" ({partition})" if partition else "") + f": {what}"
    link = f"{ui_url()}/runs/{run.run_id}"
    lines = [f"Run {run.run_id} of {run.job_name} failed.", f"Partition: {partition or 'none (unpartitioned)'}"]
    lines += [f"Check {c['asset']} {c['check']} failed: {c['description'] or c['metadata']}" for c in checks]
    lines += [f"Step {s['step']}: {s['error']}" for s in steps]
    if not steps:
        lines.append(f"Reason: {first_line(context.failure_event.message)}")
    lines.append(f"UI: {link}")
    details = {
        "job_name": run.job_name,
        "run_id": run.run_id,
        "partition": partition,
        "failed_steps": steps,
        "failed_checks": checks,
        "ui_url": link,
    }
    return subject, "\n".join(lines), details


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    description=(
        "Publishes each failed run (job, partition, failing steps) to SNS in prod, "
        "to the log and an optional webhook locally; silent for runs that will be retried."
    ),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext, alerts: AlertChannel):
    run = context.dagster_run
    if run.tags.get(WILL_RETRY_TAG, "").lower() == "true":
        context.log.info(f"run {run.run_id} of {run.job_name} failed and will be retried: no alert")
        return dg.SkipReason(f"run {run.run_id} will be retried")
    subject, message, details = failure_report(context)
    sent = alerts.publish(subject, message, details, context.log)
    context.log.info(f"alerted about run {run.run_id} via {', '.join(sent)}")
    return None
