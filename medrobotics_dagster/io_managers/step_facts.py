"""What an IO manager or asset learns from its Dagster step: the attempt, whether a failure will be retried,
each partition's UTC day, and where to put one partition's own metadata.

Dagster copies an output's metadata to the materialization of every partition of a range run; metadata added
for one `partition_key` (the step's asset-metadata accumulator, merged over the output's when the events are
built, after `handle_output` returns) makes each partition's materialization show its own figures.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.execution.context.metadata_logging import AssetMetadataHandle, OutputMetadataAccumulator

from medrobotics_dagster.error_text import first_line
from medrobotics_dagster.faults import classify


def step_of(context):
    """The step's execution context from an asset's or an IO manager's context, or None (an IO manager called
    outside a run, e.g. in a unit test)."""
    try:
        if hasattr(context, "get_step_execution_context"):
            return context.get_step_execution_context()
        return context.step_context
    except dg.DagsterInvariantViolationError:
        return None


def run_id_of(context) -> str | None:
    """The run's id from an asset's or an IO manager's context (an asset context's own `run_id` is deprecated)."""
    step = step_of(context)
    return step.run_id if step is not None else getattr(context, "run_id", None)


def attempt_of(context) -> tuple[int, int]:
    """(this attempt, attempts the step's RetryPolicy allows), both counting from 1."""
    step = step_of(context)
    if step is None:
        return 1, 1
    policy = step.op_retry_policy
    return step.previous_attempt_count + 1, (policy.max_retries + 1) if policy else 1


def failure_status(context, exc: BaseException) -> str:
    """'retried' when the RetryPolicy will run the step again, else 'failed' (a permanent fault, the last try)."""
    if isinstance(exc, dg.Failure) and not exc.allow_retries:
        return "failed"
    if classify(exc).permanent:
        return "failed"
    step = step_of(context)
    if step is not None and step.retry_mode.disabled:
        return "failed"
    attempt, allowed = attempt_of(context)
    return "retried" if attempt < allowed else "failed"


# Set on an exception once its retry is logged: the step's body and its IO manager may both see it.
RETRY_LOGGED = "medrobotics_retry_logged"


def log_retry(context, what: str, exc: BaseException) -> None:
    """A failed attempt the RetryPolicy will repeat, at WARNING (Dagster's own STEP_UP_FOR_RETRY is DEBUG);
    once per exception."""
    if getattr(exc, RETRY_LOGGED, False):
        return
    setattr(exc, RETRY_LOGGED, True)
    attempt, allowed = attempt_of(context)
    fault = classify(exc)
    context.log.warning(
        f"attempt {attempt} of {allowed} of {what} failed ({fault.kind} fault, {fault.reason}): {first_line(exc)}; "
        "retrying"
    )


@contextmanager
def retries_logged(context, what: str) -> Iterator[None]:
    """Around a step's work (an asset's body, an IO manager's read or write): a failure that the step's
    RetryPolicy will repeat leaves one WARNING naming `what`, the attempt and the cause."""
    try:
        yield
    except Exception as exc:
        if failure_status(context, exc) == "retried":
            log_retry(context, what, exc)
        raise


def io_retries_logged(what: str):
    """An IO manager's `handle_output` or `load_input` under `retries_logged`, naming `what` and the asset."""

    def decorate(method):
        @functools.wraps(method)
        def logged(self, context, *args, **kwargs):
            name = context.asset_key.to_user_string() if context.has_asset_key else "an op output"
            with retries_logged(context, f"{what} {name}"):
                return method(self, context, *args, **kwargs)

        return logged

    return decorate


def utc_day(partitions_def, key: str) -> str | None:
    """The UTC day ('YYYY-MM-DD') a partition is, or None when its window is not exactly one UTC day."""
    if not isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return None
    window = partitions_def.time_window_for_partition_key(key)
    start, end = window.start.astimezone(UTC), window.end.astimezone(UTC)
    if end - start != timedelta(days=1) or start != datetime(start.year, start.month, start.day, tzinfo=UTC):
        return None
    return start.date().isoformat()


def partition_days(context: dg.OutputContext) -> dict[str, str]:
    """{partition key: its UTC day} for the output's partitions that are UTC days."""
    if not context.has_asset_partitions:
        return {}
    partitions_def = context.asset_partitions_def
    days = {key: utc_day(partitions_def, key) for key in context.asset_partition_keys}
    return {key: day for key, day in days.items() if day is not None}


def add_partition_metadata(
    context, by_partition: Mapping[str, Mapping[str, object]], asset_key: dg.AssetKey | None = None
) -> None:
    """Each partition's own figures on its own materialization ({partition key: metadata}), from an IO manager's
    or an asset's context (`asset_key`: which of the step's assets; the output's by default).

    Added in one go: Dagster's `add_asset_metadata` lists the run's partitions and copies the step's whole
    accumulator on every call, quadratic in the range (a two-year range: about 1 s per asset). The first key
    goes through it, for Dagster's own checks of the asset and its partitions; the rest are checked against
    the run's partitions, listed once."""
    step = step_of(context)
    if step is None or not by_partition:
        return
    asset_key = asset_key or context.asset_key
    (first_key, first), *rest = by_partition.items()
    step.add_asset_metadata(dict(first), asset_key=asset_key, partition_key=first_key)
    if not rest:
        return
    with partition_loading_context(dynamic_partitions_store=step.instance):
        targeted = set(step.assets_def.partitions_def.get_partition_keys_in_range(step.partition_key_range))
    merged = dict(step._metadata_accumulator.per_output_metadata)
    for key, metadata in rest:
        if key not in targeted:
            raise dg.DagsterInvariantViolationError(
                f"Attempted to add metadata for partition key '{key}' that is not being targeted."
            )
        handle = AssetMetadataHandle(asset_key=asset_key, partition_key=key)
        merged[handle] = {**merged.get(handle, {}), **metadata}
    step._metadata_accumulator = OutputMetadataAccumulator(per_output_metadata=merged)
