"""Dagster features the platform uses on purpose although Dagster 1.13 marks them beta or preview.

Their lifecycle warnings are acknowledged here, each by its exact subject, so that every process that loads the
definitions (the webserver, the daemon, a run, the `medrobotics` command) prints only warnings someone should act
on: any other beta, preview or deprecated use still warns. Matched by message, not by Dagster's warning classes,
so that `medrobotics query` does not import Dagster to install them.
"""

import re
import warnings

ACKNOWLEDGED: dict[str, str] = {
    "Parameter `backfill_policy` of function `asset`": "a backfill of the daily assets is one run, not one per day",
    "Parameter `allow_nonexistent_upstream_partitions` of initializer `TimeWindowPartitionMapping.__init__`": (
        "a day's samples read the procedures of the day before, which the first day does not have"
    ),
    "Specifying a partitions_def on an AssetCheckSpec": "the telemetry checks report each day on its own",
    "Function `Definitions.map_resolved_asset_specs`": "freshness policies on the dbt facts and views",
}


def acknowledged_patterns() -> list[str]:
    """Regular expressions of the acknowledged warnings' messages."""
    return [re.escape(subject) + " is currently in " for subject in ACKNOWLEDGED]


def acknowledge_dagster_previews() -> None:
    """Ignore the lifecycle warnings of the features in ACKNOWLEDGED (added once, however often called)."""
    for pattern in acknowledged_patterns():
        warnings.filterwarnings("ignore", message=pattern)
