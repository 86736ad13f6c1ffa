"""The SQS queue that receives the bucket's S3 event notifications for raw/telemetry/ (queue mode of the sensor)."""

import os

import dagster as dg
from pydantic import Field

QUEUE_URL_SETTING = "MEDROBOTICS_TELEMETRY_QUEUE_URL"


class TelemetryQueue(dg.ConfigurableResource):
    """The SQS queue that receives the bucket's ObjectCreated events for raw/telemetry/."""

    queue_url: str | None = Field(default=None, description=f"SQS queue URL. Unset: {QUEUE_URL_SETTING}.")
    max_messages_per_tick: int = Field(default=2000, description="Upper bound of messages one tick reads.")

    def resolved_url(self) -> str | None:
        return self.queue_url or os.environ.get(QUEUE_URL_SETTING) or None

    def client(self):
        import boto3  # the endpoint comes from AWS_ENDPOINT_URL_SQS when set (tests: moto)

        return boto3.client("sqs")
