"""The one daily partitions definition every daily asset shares (mixing definitions breaks single-run backfills)."""

import dagster as dg

from medrobotics_dagster import settings

# Days before the history start cannot hold data: they are not partitions, so no backfill spends time on them.
daily_partitions = dg.DailyPartitionsDefinition(start_date=settings.history_start().isoformat(), timezone="UTC")
