"""Transient or permanent: the one place that decides whether a failed database, S3 or dbt call is worth retrying.

Assets keep their `RetryPolicy` (exponential backoff with jitter) for transient faults: a connection dropped
mid-load, a server restarting, an S3 5xx or throttle. A permanent fault (bad credentials, a database, role,
table or bucket that does not exist, access denied, a failing data test) would fail the same way on every
attempt, so it becomes `dg.Failure(allow_retries=False)` with one clear line, and the step fails at once.

Call sites wrap the work that talks to a service:

    with fail_fast_on_permanent_faults("extract of surgical_procedures"):
        frame = source_db.read_frame(...)

and dbt steps check their invocation with `raise_for_dbt_failure(invocation)`. Anything the rules below do not
recognise is left to the retry policy (bounded), never turned into an immediate failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import dagster as dg

Kind = Literal["transient", "permanent", "unknown"]


@dataclass(frozen=True)
class Fault:
    kind: Kind
    reason: str  # short: "SQLSTATE 57P01", "S3 SlowDown (HTTP 503)", "database does not exist", ...

    @property
    def permanent(self) -> bool:
        return self.kind == "permanent"


class PermanentFault(Exception):
    """An error this code raises knowing a retry cannot help (a lost table); its message is the one line shown."""

    reason = "permanent fault"


# --------------------------------------------------------------------------------------- PostgreSQL / Redshift

# SQLSTATE classes (first two characters) and codes; see the PostgreSQL manual, appendix A.
TRANSIENT_SQLSTATE_CLASSES = {
    "08": "connection exception",
    "53": "insufficient resources",
    "40": "transaction rollback (serialization failure or deadlock)",
}
TRANSIENT_SQLSTATES = {
    "57P01": "server terminated the connection (admin shutdown)",
    "57P02": "server crashed",
    "57P03": "server cannot accept connections yet",
    "57014": "statement cancelled (statement timeout or cancel request)",
    "55P03": "lock not available",
}
PERMANENT_SQLSTATE_CLASSES = {
    "28": "invalid authorization (bad credentials)",
    "3D": "database does not exist",
    "3F": "schema does not exist",
    "42": "missing table or column, syntax error or insufficient privilege",
    "22": "data exception",
    "23": "integrity constraint violation",
    "0A": "feature not supported",
}
# Connection-time errors carry no SQLSTATE in psycopg2: libpq's message is all there is.
PERMANENT_CONNECT_MESSAGES = [
    (re.compile(r"password authentication failed|authentication failed for user"), "bad credentials"),
    (re.compile(r'database "[^"]*" does not exist'), "database does not exist"),
    (re.compile(r'role "[^"]*" does not exist'), "role does not exist"),
    (re.compile(r"no pg_hba\.conf entry"), "connection not allowed by pg_hba.conf"),
    (re.compile(r"permission denied for database"), "no CONNECT privilege"),
    (re.compile(r"invalid dsn|invalid connection option|invalid sslmode"), "malformed connection settings"),
    (re.compile(r"server does not support SSL"), "server refuses TLS"),
    (
        re.compile(
            r"could not translate host name .*"
            r"(Name or service not known|nodename nor servname|No address associated)"
        ),
        "host name does not resolve",
    ),
]
TRANSIENT_CONNECT_MESSAGES = [
    re.compile(p)
    for p in (
        r"could not connect to server",
        r"connection to server at .* failed",
        r"Connection refused",
        r"timeout expired",
        r"server closed the connection unexpectedly",
        r"terminating connection",
        r"connection already closed",
        r"SSL SYSCALL error",
        r"SSL connection has been closed unexpectedly",
        r"could not receive data from server",
        r"could not send data to server",
        r"Connection reset by peer",
        r"the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)",
        r"is not currently accepting connections",  # ALTER DATABASE … ALLOW_CONNECTIONS false, for maintenance
        r"too many (clients|connections)",
        r"could not translate host name",
        r"Temporary failure in name resolution",
    )
]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def classify_database_error(exc: BaseException) -> Fault | None:
    """A psycopg2 error (or a message of libpq's) as a Fault; None when it is not a database error."""
    import psycopg2

    if not isinstance(exc, psycopg2.Error):
        return None
    code = getattr(exc, "pgcode", None)
    if code:
        if code in TRANSIENT_SQLSTATES:
            return Fault("transient", f"SQLSTATE {code}: {TRANSIENT_SQLSTATES[code]}")
        if code[:2] in TRANSIENT_SQLSTATE_CLASSES:
            return Fault("transient", f"SQLSTATE {code}: {TRANSIENT_SQLSTATE_CLASSES[code[:2]]}")
        if code[:2] in PERMANENT_SQLSTATE_CLASSES:
            return Fault("permanent", f"SQLSTATE {code}: {PERMANENT_SQLSTATE_CLASSES[code[:2]]}")
    return classify_database_message(str(exc), interface=isinstance(exc, psycopg2.InterfaceError)) or Fault(
        "unknown", f"SQLSTATE {code}" if code else type(exc).__name__
    )


def classify_database_message(message: str, interface: bool = False) -> Fault | None:
    """libpq's text for errors without a SQLSTATE (connection time, a dropped connection)."""
    for pattern, reason in PERMANENT_CONNECT_MESSAGES:
        if pattern.search(message):
            return Fault("permanent", reason)
    for pattern in TRANSIENT_CONNECT_MESSAGES:
        if pattern.search(message):
            return Fault("transient", "connection lost or refused")
    if interface:  # psycopg2.InterfaceError: the connection object is closed or broken
        return Fault("transient", "connection lost")
    return None


# ------------------------------------------------------------------------------------------------- S3 (botocore)

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


def classify_aws_error(exc: BaseException) -> Fault | None:
    """A botocore error as a Fault; None when it is not one. Error code first, then the HTTP status."""
    try:
        from botocore import exceptions as bx
    except ImportError:  # pragma: no cover - boto3 is a dependency
        return None
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or (code if code.isdigit() else 0))
        label = f"{code or 'error'} (HTTP {status})" if status else code or "error"
        if code in TRANSIENT_S3_CODES or status >= 500 or status == 429:
            return Fault("transient", f"S3 {label}")
        if code in PERMANENT_S3_CODES:
            return Fault("permanent", f"S3 {label}: {PERMANENT_S3_CODES[code]}")
        if status == 403:
            return Fault("permanent", f"S3 {label}: access denied")
        if status == 404:
            return Fault("permanent", f"S3 {label}: does not exist")
        if 400 <= status < 500:
            return Fault("permanent", f"S3 {label}")
        return Fault("unknown", f"S3 {label}")
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


# --------------------------------------------------------------------------------------------------- any error


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (`user_exception`, __cause__, __context__), outermost first."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (getattr(current, "user_exception", None), current.__cause__, current.__context__) if e)


def classify(exc: BaseException) -> Fault:
    """Transient, permanent or unknown, looking through wrappers (ConfigError, Dagster user-code errors)."""
    from medrobotics_dagster.resources.lake import LakeObjectNotFound
    from medrobotics_dagster.settings import ConfigError

    config_error: ConfigError | None = None
    for current in _chain(exc):
        for rule in (classify_database_error, classify_aws_error):
            fault = rule(current)
            if fault is not None and fault.kind != "unknown":
                return fault
        if isinstance(current, PermanentFault):
            return Fault("permanent", current.reason)
        if isinstance(current, LakeObjectNotFound):
            return Fault("permanent", "lake object does not exist")
        if isinstance(current, ConfigError) and config_error is None:
            config_error = current
        if isinstance(current, (ConnectionError, TimeoutError)):
            return Fault("transient", type(current).__name__)
    if config_error is not None:  # a setting that points at nothing usable, for a reason not recognised above
        return Fault("permanent", f"misconfigured {config_error.setting}")
    return Fault("unknown", type(exc).__name__)


def permanent_failure(action: str, exc: BaseException, fault: Fault) -> dg.Failure:
    """The one clear message of a permanent fault; `allow_retries=False` skips the step's RetryPolicy."""
    own = next((e for e in _chain(exc) if isinstance(e, PermanentFault)), None)
    if own is not None:  # its message already says what to do
        return dg.Failure(
            description=f"{action} failed permanently: {_first_line(own)}",
            metadata={"fault": fault.reason, "error": _first_line(own), "classified_as": fault.kind},
            allow_retries=False,
        )
    from medrobotics_dagster.settings import ConfigError

    # A setting's error names the setting and redacts its URL: the one line to show when there is one.
    setting = next((e for e in _chain(exc) if isinstance(e, ConfigError)), None)
    root = setting or next((e for e in _chain(exc) if classify_database_error(e) or classify_aws_error(e)), exc)
    return dg.Failure(
        description=f"{action} failed permanently ({fault.reason}): {_first_line(root)}. Not retried: fix the cause, then re-run.",
        metadata={"fault": fault.reason, "error": _first_line(root), "classified_as": fault.kind},
        allow_retries=False,
    )


@contextmanager
def fail_fast_on_permanent_faults(action: str) -> Iterator[None]:
    """Re-raise transient and unrecognised errors (the RetryPolicy retries them); permanent ones become one
    `dg.Failure(allow_retries=False)` naming `action` and the cause."""
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        fault = classify(exc)
        if fault.permanent:
            raise permanent_failure(action, exc, fault) from exc
        raise  # the step logs the retry at WARNING (io_managers/step_facts.py: retries_logged)


# ---------------------------------------------------------------------------------------------------------- dbt


def dbt_failures(run_results: dict) -> list[tuple[str, str, str]]:
    """(node, status, message) of every result of dbt's run_results.json that did not succeed or pass."""
    failed = []
    for result in run_results.get("results", []):
        status = str(result.get("status"))
        if status not in ("success", "pass", "skipped", "warn", "no-op"):
            failed.append((str(result.get("unique_id")), status, " ".join(str(result.get("message") or "").split())))
    return failed


def classify_dbt_failures(failures: list[tuple[str, str, str]], error_text: str = "") -> Fault:
    """A failing data test is permanent (the data is wrong). Errors are transient only when every message (or,
    when dbt wrote no results, its own error text) is a dropped or refused connection: a compilation error, a
    missing relation or any other SQL error fails the same way again, so it is permanent."""
    if any(status == "fail" for _, status, _ in failures):
        return Fault("permanent", "failing data test")
    messages = [message for _, status, message in failures if status != "fail"] or [error_text]
    kinds = [classify_database_message(message) for message in messages]
    if all(k is not None and k.kind == "transient" for k in kinds):
        return Fault("transient", "dbt lost its database connection")
    known = next((k for k in kinds if k is not None and k.permanent), None)
    return known or Fault("permanent", "dbt compilation or SQL error")


class DbtConnectionLost(ConnectionError):
    """dbt lost, or could not open, its database connection: the step's RetryPolicy runs it again."""


def _connection_line(error_text: str) -> str:
    """The line of dbt's error text that names the lost or refused connection (else its first line)."""
    lines = [line.strip() for line in error_text.splitlines() if line.strip()]
    found = next((line for line in lines if classify_database_message(line)), None)
    return found or (lines[0] if lines else "see the dbt logs")


def raise_for_dbt_failure(invocation, error_text: str = "", action: str = "dbt build") -> None:
    """After a dbt invocation failed: `dg.Failure(allow_retries=False)` listing the failed nodes when the fault
    is permanent; `DbtConnectionLost` with dbt's own message when it is transient (the RetryPolicy retries it)."""
    try:
        run_results = invocation.get_artifact("run_results.json")
    except Exception:  # dbt stopped before writing its results (a parse or connection error)
        run_results = {}
    failures = dbt_failures(run_results)
    fault = classify_dbt_failures(failures, error_text)
    if not fault.permanent:
        message = next((message for _, _, message in failures if message), "") or _connection_line(error_text)
        raise DbtConnectionLost(f"{action}: {fault.reason}: {message[:300]}")
    listed = "; ".join(f"{node} {status}: {message[:200]}" for node, status, message in failures[:5])
    raise dg.Failure(
        description=f"{action} failed permanently ({fault.reason}): {listed or error_text.splitlines()[0] if error_text else 'see the dbt logs'}. "
        "Not retried: fix the cause, then re-run.",
        metadata={"fault": fault.reason, "failed_nodes": [f"{n} ({st})" for n, st, _ in failures]},
        allow_retries=False,
    )
