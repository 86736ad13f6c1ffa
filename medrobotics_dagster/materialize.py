"""Materializing from Python (the `medrobotics` commands, the benchmarks, the tests): selections and range runs.

The asset jobs launched from the UI, the schedule and the sensor run the same selections; this module is the
one place that turns "these assets over these days" into a Dagster run outside a daemon.
"""

from __future__ import annotations

import dagster as dg

from medrobotics_dagster.partitions import range_tags


class MaterializationFailed(Exception):
    """A run failed; the message names its failed steps and its run id (the Dagster UI has its logs)."""


# The daily-partitioned assets, known without loading the definitions (a test holds it equal to them), so that a
# `demo` with nothing to do answers without importing dbt.
DAILY_ASSET_KEYS = [
    dg.AssetKey(path)
    for path in (
        ["staging", "surgical_procedures"],
        ["staging", "procedure_outcomes"],
        ["lake", "telemetry_samples"],
        ["warehouse", "telemetry_quarantine"],
        ["warehouse", "fact_procedure_telemetry"],
        ["warehouse", "fact_procedures"],
        ["warehouse", "fact_procedures_quarantine"],
    )
]


def daily_asset_keys(defs: dg.Definitions) -> list[dg.AssetKey]:
    return [k for a in (defs.assets or []) if isinstance(a, dg.AssetsDefinition) and a.partitions_def for k in a.keys]


def daily_selection(defs: dg.Definitions) -> dg.AssetSelection:
    return dg.AssetSelection.assets(*daily_asset_keys(defs))


def whole_selections(defs: dg.Definitions) -> tuple[dg.AssetSelection, dg.AssetSelection]:
    """The unpartitioned assets the daily ones read (staging dimensions, snapshots, dimensions), and those that
    read the daily ones (the views: on a fresh warehouse they can only be built after the facts)."""
    daily = daily_selection(defs)
    whole = dg.AssetSelection.all().materializable() - daily
    after = whole & daily.downstream(include_self=False)
    return whole - after, after


def upstream_whole_selection(defs: dg.Definitions) -> dg.AssetSelection:
    return whole_selections(defs)[0]


def materialize(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    selection: dg.AssetSelection,
    days: tuple[str, str] | None = None,
    log_level: str = "WARNING",
) -> dg.ExecuteInProcessResult:
    """One in-process run of `selection`, with the checks of the selected assets, over `days` if partitioned."""
    return dg.materialize(
        [*(defs.assets or []), *(defs.asset_checks or [])],
        selection=selection,
        resources=dict(defs.resources or {}),
        instance=instance,
        tags=range_tags(*days) if days else {},
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
    )


def check_success(result: dg.ExecuteInProcessResult, label: str, hint: str = "") -> None:
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        raise MaterializationFailed(f"{label} failed in {failed}; see run {result.run_id} in the Dagster UI{hint}")


def materialize_everything(
    defs: dg.Definitions, instance: dg.DagsterInstance, days: tuple[str, str] | None, log_level: str = "WARNING"
) -> None:
    """What a first `demo` runs: the unpartitioned assets the facts read, every daily partition of `days` in one
    run, then the views; raises MaterializationFailed naming the failed steps."""
    before, views = whole_selections(defs)
    check_success(materialize(defs, instance, before, log_level=log_level), "the dimensions")
    if days is not None:
        check_success(
            materialize(defs, instance, daily_selection(defs), days, log_level), f"loading {days[0]} .. {days[1]}"
        )
    check_success(materialize(defs, instance, views, log_level=log_level), "the views")
