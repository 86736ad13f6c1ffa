"""The one daily partitions definition every daily asset shares (mixing definitions breaks single-run backfills)."""

import dagster as dg

HISTORY_START = "2023-01-01"

daily_partitions = dg.DailyPartitionsDefinition(start_date=HISTORY_START, timezone="UTC")
