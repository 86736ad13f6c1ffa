"""Asset jobs for the run modes: full, dimensions, procedures FROM TO, telemetry DAY (docs/run-modes.md).

Every job carries the run tags operations rely on:
- `dagster/max_runtime` = "1800" (a string: an unparsable value silently means no limit): run monitoring
  fails a run still going after 30 minutes (the long-running limit of docs/run-modes.md), and the failure
  sensor alerts;
- `dagster/retry_on_asset_or_op_failure` = "false": a step that failed has already used its own RetryPolicy
  (exponential backoff with jitter) or was a permanent fault, so the instance's run retries only re-run
  runs whose process died (crash, lost container), not runs that failed on purpose.
"""

import dagster as dg

from medrobotics_dagster.defs.staging.operational_extracts import staging_key
from medrobotics_dagster.defs.telemetry.sensor import telemetry_job
from medrobotics_dagster.defs.warehouse.dbt_assets import daily_fact_models, warehouse_dbt_models

MAX_RUNTIME_SECONDS = 30 * 60
OPERATIONS_TAGS = {
    "dagster/max_runtime": str(MAX_RUNTIME_SECONDS),
    "dagster/retry_on_asset_or_op_failure": "false",
}

DIMENSION_KEYS = [key for key in warehouse_dbt_models.keys if key.path[-1].startswith("dim_")]
DAILY_STAGING_KEYS = [staging_key("surgical_procedures"), staging_key("procedure_outcomes")]

# Staging extracts of the dimension sources -> snapshots -> SCD2 dimensions, plus dim_date and dim_time.
dimensions_selection = dg.AssetSelection.assets(*DIMENSION_KEYS).upstream().materializable()
# A day's (or a range's) procedures and outcomes extracts and fact_procedures with its quarantine.
procedures_selection = dg.AssetSelection.assets(*DAILY_STAGING_KEYS) | dg.AssetSelection.assets(daily_fact_models)

full_load_job = dg.define_asset_job(
    "full_load_job",
    selection=dg.AssetSelection.all(),
    tags=OPERATIONS_TAGS,
    description=(
        "Everything, in dependency order: staging extracts, snapshots and dimensions, the facts of the "
        "partition (or range) launched, telemetry, then the views. The daily schedule runs it for yesterday."
    ),
)

dimensions_job = dg.define_asset_job(
    "dimensions_job",
    selection=dimensions_selection,
    tags=OPERATIONS_TAGS,
    description=(
        "Dimensions only: staging extracts of facilities, surgeons and robots, their snapshots and the SCD2 dimensions."
    ),
)

procedures_job = dg.define_asset_job(
    "procedures_job",
    selection=procedures_selection,
    tags=OPERATIONS_TAGS,
    description=(
        "Procedure facts for a day or a date range: "
        "extracts of procedures and outcomes, fact_procedures and its quarantine."
    ),
)

# Telemetry for a day or a range is the file sensor's job (procedures extract of the days and the telemetry
# assets); it is the fourth run mode as it is, so the sensor and an operator launch the same thing.
RUN_MODES = {
    "full": full_load_job,
    "dimensions": dimensions_job,
    "procedures": procedures_job,
    "telemetry": telemetry_job,
}

operations_jobs = [full_load_job, dimensions_job, procedures_job]
