"""S3 errors (botocore): transient or permanent by error code, else by HTTP status."""

from __future__ import annotations

from medrobotics_dagster.faults.fault import Fault

TRANSIENT_S3_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "ServiceUnavailable",
    "PriorRequestNotComplete",
    "OperationAborted",
}
PERMANENT_S3_CODES = {
    "AccessDenied": "access denied",
    "AllAccessDisabled": "access denied",
    "InvalidAccessKeyId": "bad credentials",
    "SignatureDoesNotMatch": "bad credentials",
    "ExpiredToken": "expired credentials",
    "InvalidToken": "bad credentials",
    "NoSuchBucket": "bucket does not exist",
    "NoSuchKey": "object does not exist",
    "InvalidBucketName": "invalid bucket name",
    "AuthorizationHeaderMalformed": "wrong region or malformed credentials",
    "PermanentRedirect": "bucket is in another region",
}


# HTTP statuses of a refused request, when its error code is not in the tables above.
PERMANENT_S3_STATUSES = {403: "access denied", 404: "does not exist"}


def classify_client_error(code: str, status: int) -> Fault:
    """An S3 error response (botocore's ClientError) by its error code, then its HTTP status."""
    label = f"S3 {code or 'error'} (HTTP {status})" if status else f"S3 {code or 'error'}"
    if code in TRANSIENT_S3_CODES or status >= 500 or status == 429:
        return Fault("transient", label)
    if code in PERMANENT_S3_CODES:
        return Fault("permanent", f"{label}: {PERMANENT_S3_CODES[code]}")
    if status in PERMANENT_S3_STATUSES:
        return Fault("permanent", f"{label}: {PERMANENT_S3_STATUSES[status]}")
    return Fault("permanent" if 400 <= status < 500 else "unknown", label)


def classify_aws_error(exc: BaseException) -> Fault | None:
    """A botocore error as a Fault; None when it is not one. Error code first, then the HTTP status."""
    try:
        from botocore import exceptions as bx
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return None
    if isinstance(exc, bx.ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or (code if code.isdigit() else 0))
        return classify_client_error(code, status)
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return Fault("permanent", "no AWS credentials")
    if isinstance(exc, (bx.ParamValidationError,)):
        return Fault("permanent", "invalid request parameters")
    if isinstance(
        exc,
        (
            bx.EndpointConnectionError,
            bx.ConnectionClosedError,
            bx.ReadTimeoutError,
            bx.ConnectTimeoutError,
            bx.ResponseStreamingError,
        ),
    ):
        return Fault("transient", f"S3 endpoint unreachable ({type(exc).__name__})")
    return None
