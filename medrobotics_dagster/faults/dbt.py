"""dbt invocations: a failing data test or a SQL error is permanent, a lost connection transient."""

from __future__ import annotations

import dagster as dg

from medrobotics_dagster.error_text import first_line
from medrobotics_dagster.faults.database import classify_database_message
from medrobotics_dagster.faults.fault import Fault


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
    cause = listed or first_line(error_text) or "see the dbt logs"
    raise dg.Failure(
        description=f"{action} failed permanently ({fault.reason}): {cause}. Not retried: fix the cause, then re-run.",
        metadata={"fault": fault.reason, "failed_nodes": [f"{n} ({st})" for n, st, _ in failures]},
        allow_retries=False,
    )
