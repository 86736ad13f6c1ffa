"""Synthetic surgical-robot data: an operational source database and raw telemetry files, reproducible by seed."""

from medrobotics_dagster.synthetic.errors import DayAlreadySimulated, SourceEmpty, SourceNotEmpty, SyntheticDataError
from medrobotics_dagster.synthetic.generator import generate
from medrobotics_dagster.synthetic.simulate_day import simulate_day

__all__ = ["generate", "simulate_day", "SyntheticDataError", "SourceNotEmpty", "SourceEmpty", "DayAlreadySimulated"]
