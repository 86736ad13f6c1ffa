"""Freshness policies: a warehouse that missed its daily load shows red in the UI.

The daily schedule starts at 03:00 UTC and a run may take 30 minutes (plus step retries), so the facts and
the views are expected to have been materialized between 03:00 and 05:00 UTC every day. Past 05:00 without
that day's materialization, the asset's freshness turns from "pass" to "fail" on the asset graph and the
asset's page (evaluated by the daemon's freshness loop; on by default in Dagster 1.13, `freshness.enabled`).

Dagster's policy is asset-level: any materialization in the window counts, including a backfill of an old
day. The daily schedule's run for yesterday is what normally satisfies it.
"""

from datetime import timedelta

import dagster as dg

from medrobotics_dagster.defs.operations.schedule import DAILY_HOUR_UTC
from medrobotics_dagster.defs.telemetry.assets import FACT_KEY as TELEMETRY_FACT_KEY
from medrobotics_dagster.defs.warehouse import dbt_assets

LOAD_WINDOW = timedelta(hours=2)  # materialized within two hours of the schedule's tick
DEADLINE_CRON = f"0 {DAILY_HOUR_UTC + LOAD_WINDOW // timedelta(hours=1)} * * *"

daily_load_freshness = dg.FreshnessPolicy.cron(
    deadline_cron=DEADLINE_CRON, lower_bound_delta=LOAD_WINDOW, timezone="UTC"
)

FACT_KEYS = [*dbt_assets.daily_fact_models.keys, TELEMETRY_FACT_KEY]
# the views, whichever dbt assets definition builds them
VIEW_KEYS = sorted(
    {
        key
        for defn in (dbt_assets.warehouse_dbt_models, getattr(dbt_assets, "warehouse_views", None))
        if defn
        for key in defn.keys
        if key.path[-1].startswith("vw_")
    },
    key=lambda k: k.to_user_string(),
)
fresh_daily_selection = dg.AssetSelection.assets(*FACT_KEYS, *VIEW_KEYS)


def with_freshness_policies(defs: dg.Definitions) -> dg.Definitions:
    """The same definitions with the daily-load policy on every fact and view (and nothing else)."""
    return defs.map_resolved_asset_specs(
        func=lambda spec: dg.apply_freshness_policy(spec, daily_load_freshness),
        selection=fresh_daily_selection,
    )
