"""The daily load at 03:00 UTC (`0 3 * * *`), in the asset graph's order (docs/run-modes.md).

One run of `full_load_job` for yesterday's partition: Dagster orders its steps by the asset graph — staging
extracts and dimensions first, then yesterday's procedure and telemetry facts, then the views that read them.
"Yesterday" is the partition that ends at the tick's *scheduled* time, not at the wall clock: a tick evaluated
late, or caught up after the daemon was down, loads the day it was meant for.
"""

import dagster as dg

from medrobotics_dagster.defs.operations.jobs import full_load_job

DAILY_HOUR_UTC = 3

daily_warehouse_schedule = dg.build_schedule_from_partitioned_job(
    full_load_job,
    name="daily_warehouse_schedule",
    hour_of_day=DAILY_HOUR_UTC,
    minute_of_hour=0,
    description=f"{DAILY_HOUR_UTC:02d}:00 UTC: dimensions, then yesterday's facts (procedures, telemetry), then views.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    tags={"medrobotics/trigger": "daily_schedule"},
)
