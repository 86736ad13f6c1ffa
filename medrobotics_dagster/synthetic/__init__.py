"""Synthetic surgical-robot data: an operational source database and raw telemetry files, reproducible by seed.

`generator.generate` builds the initial world, `simulate_day.simulate_day` moves it forward a day."""
