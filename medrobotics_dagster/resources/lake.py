"""The data lake: a local directory or an S3 prefix, behind one small interface."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
from pydantic import Field, PrivateAttr

from medrobotics_dagster import settings
from medrobotics_dagster.resources.lake_directory import DirectoryBackend
from medrobotics_dagster.resources.lake_objects import LakeObject, LakeObjectNotFound, check_key

# The lake's bucket policy rejects uploads that do not ask for server-side encryption (docs/architecture.md).
SSE = {"ServerSideEncryption": "AES256"}
KMS_KEY_SETTING = "MEDROBOTICS_LAKE_KMS_KEY_ID"


def encryption(kms_key_id: str | None) -> dict[str, str]:
    """Server-side encryption of every write: SSE-KMS with the given key, else SSE-S3 (AES256)."""
    if kms_key_id:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    return dict(SSE)


class _S3Backend:
    def __init__(self, bucket: str, prefix: str, max_attempts: int = 5, kms_key_id: str | None = None):
        from dagster_aws.s3 import S3Resource

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        # dagster-aws's client: retries with botocore's standard mode; the endpoint comes from
        # AWS_ENDPOINT_URL_S3 when set (S3-compatible stores, moto in tests).
        self.client = S3Resource(max_attempts=max_attempts).get_client()
        self.sse = encryption(kms_key_id)

    @contextmanager
    def _errors(self, key: str = ""):
        from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

        try:
            yield
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "NoSuchBucket" or (code in ("404", "NotFound") and not key):
                raise settings.ConfigError(settings.LAKE_URL, f"bucket {self.bucket!r} does not exist") from exc
            if code in ("NoSuchKey", "404"):
                raise LakeObjectNotFound(f"no lake object {self.uri(key)}") from exc
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise settings.ConfigError(
                    settings.LAKE_URL, f"access to bucket {self.bucket!r} denied ({code})"
                ) from exc
            raise
        except NoCredentialsError as exc:
            raise settings.ConfigError(
                settings.LAKE_URL,
                f"no AWS credentials for s3://{self.bucket} "
                "(set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an IAM role)",
            ) from exc
        except EndpointConnectionError as exc:
            raise settings.ConfigError(
                settings.LAKE_URL, f"cannot reach the S3 endpoint of s3://{self.bucket}{self._endpoint_note()}: {exc}"
            ) from exc

    def _endpoint_note(self) -> str:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        return f" ({endpoint}, from AWS_ENDPOINT_URL_S3)" if endpoint else ""

    def check(self) -> None:
        """Fail fast, naming MEDROBOTICS_LAKE_URL, when the bucket is missing, unreachable or refuses us."""
        import boto3
        from botocore.config import Config

        # A short, bounded check: the default client retries an unreachable endpoint for a long time.
        quick = boto3.client(
            "s3", config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 1, "mode": "standard"})
        )
        with self._errors():
            quick.head_bucket(Bucket=self.bucket)
            quick.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)

    def list(self, prefix: str) -> Iterator[LakeObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        with self._errors():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []):
                    yield LakeObject(
                        key=item["Key"][len(self.prefix) :],
                        last_modified=item["LastModified"].astimezone(UTC),
                        etag=item["ETag"].strip('"'),
                        size=item["Size"],
                    )

    def get(self, key: str) -> bytes:
        with self._errors(key):
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()

    def put(self, key: str, data: bytes) -> None:
        with self._errors(key):
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, **self.sse)

    def copy(self, source_key: str, target_key: str) -> None:
        with self._errors(source_key):
            self.client.copy_object(
                Bucket=self.bucket,
                Key=self.prefix + target_key,
                CopySource={"Bucket": self.bucket, "Key": self.prefix + source_key},
                **self.sse,
            )

    def delete(self, key: str) -> None:
        with self._errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"


class Lake(dg.ConfigurableResource):
    """Raw files, staged Parquet and archives: a directory locally, `s3://bucket/prefix` in production."""

    url: str | None = Field(
        default=None,
        description="Directory path or s3://bucket/prefix. Unset: MEDROBOTICS_LAKE_URL, else .medrobotics/lake.",
    )
    kms_key_id: str | None = Field(
        default=None,
        description=f"KMS key for SSE-KMS on every S3 write. Unset: {KMS_KEY_SETTING}, else SSE-S3 (AES256).",
    )
    max_attempts: int = Field(default=5, description="Attempts of each S3 call (botocore retries throttles and 5xx).")
    _backend: object = PrivateAttr(default=None)

    def resolved_url(self) -> str:
        return self.url or settings.lake_url()

    @property
    def backend(self):
        if self._backend is None:
            kms_key_id = self.kms_key_id or os.environ.get(KMS_KEY_SETTING) or None
            self._backend = open_backend(self.resolved_url(), self.max_attempts, kms_key_id)
        return self._backend

    def list(self, prefix: str = "") -> Iterator[LakeObject]:
        """Every object whose key starts with `prefix` (a plain string prefix, as in S3), sorted by key."""
        return self.backend.list(check_key(prefix, prefix=True))

    def get(self, key: str) -> bytes:
        """The object's bytes; LakeObjectNotFound when there is none."""
        return self.backend.get(check_key(key))

    def put(self, key: str, data: bytes) -> None:
        """Write (or replace) an object atomically; on S3 with server-side encryption."""
        self.backend.put(check_key(key), data)

    def copy(self, source_key: str, target_key: str) -> None:
        """Copy an object inside the lake; LakeObjectNotFound when the source is missing."""
        self.backend.copy(check_key(source_key), check_key(target_key))

    def delete(self, key: str) -> None:
        """Remove an object; a missing one is not an error."""
        self.backend.delete(check_key(key))

    def check(self) -> None:
        """Raise a ConfigError naming MEDROBOTICS_LAKE_URL unless the lake is listable and writable (writes nothing)."""
        self.backend.check()

    def uri(self, key: str) -> str:
        """The object's full address (s3:// for S3, file:// for a directory), as COPY and logs want it."""
        return self.backend.uri(check_key(key))


def open_backend(url: str, max_attempts: int = 5, kms_key_id: str | None = None):
    parts = urlsplit(url)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise settings.ConfigError(settings.LAKE_URL, f"names no bucket: {url!r}")
        return _S3Backend(parts.netloc, parts.path, max_attempts, kms_key_id)
    if settings.environment() == "prod":  # only S3 writes are encrypted by the lake itself
        raise settings.ConfigError(
            settings.LAKE_URL, f"must be s3://bucket/prefix when MEDROBOTICS_ENV=prod, got {url!r}"
        )
    if parts.scheme in ("", "file"):
        root = Path(parts.path if parts.scheme == "file" else url).expanduser()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise settings.ConfigError(
                settings.LAKE_URL, f"cannot create lake directory {root}: {exc.strerror}"
            ) from exc
        if not os.access(root, os.W_OK):
            raise settings.ConfigError(settings.LAKE_URL, f"lake directory {root} is not writable")
        return DirectoryBackend(root)
    raise settings.ConfigError(settings.LAKE_URL, f"expected a directory or s3://bucket/prefix, got {url!r}")
