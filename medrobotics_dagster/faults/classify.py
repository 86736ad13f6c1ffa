"""Any error, looking through its wrappers: the rules of each service, then the step's response to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from medrobotics_dagster.error_text import first_line
from medrobotics_dagster.faults.aws import classify_aws_error
from medrobotics_dagster.faults.database import classify_database_error
from medrobotics_dagster.faults.fault import Fault, PermanentFault
from medrobotics_dagster.settings import ConfigError


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
    config_error: ConfigError | None = None
    for current in _chain(exc):
        for rule in (classify_database_error, classify_aws_error):
            fault = rule(current)
            if fault is not None and fault.kind != "unknown":
                return fault
        if isinstance(current, PermanentFault):
            return Fault("permanent", current.reason)
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
            description=f"{action} failed permanently: {first_line(own)}",
            metadata={"fault": fault.reason, "error": first_line(own), "classified_as": fault.kind},
            allow_retries=False,
        )
    # A setting's error names the setting and redacts its URL: the one line to show when there is one.
    setting = next((e for e in _chain(exc) if isinstance(e, ConfigError)), None)
    root = setting or next((e for e in _chain(exc) if classify_database_error(e) or classify_aws_error(e)), exc)
    return dg.Failure(
        description=f"{action} failed permanently ({fault.reason}): {first_line(root)}. "
        "Not retried: fix the cause, then re-run.",
        metadata={"fault": fault.reason, "error": first_line(root), "classified_as": fault.kind},
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
