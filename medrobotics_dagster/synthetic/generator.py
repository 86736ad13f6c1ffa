"""`generate`: fill an empty source database and the lake with a deterministic synthetic world."""

from __future__ import annotations

from datetime import date

from medrobotics_dagster import settings
from medrobotics_dagster.raw_telemetry_paths import RAW_TELEMETRY_PREFIX
from medrobotics_dagster.resources.databases import SourceDatabase
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.resources.postgres_connection import transaction
from medrobotics_dagster.synthetic import catalog, lake_io, source_schema
from medrobotics_dagster.synthetic.errors import SourceNotEmpty
from medrobotics_dagster.synthetic.telemetry import telemetry_objects
from medrobotics_dagster.synthetic.world import build_world


def generate(
    source_url: str | None = None,
    lake: Lake | None = None,
    scale: float = 1.0,
    seed: int = 42,
    reset: bool = False,
    start: date | None = None,
    end: date | None = None,
) -> dict:
    """Apply the operational schema, load the synthetic world into it and write its raw telemetry; returns counts.

    The history runs from `start` to `end` (inclusive UTC days). Unset, it is the fixed, reproducible
    2023-01-01 .. 2024-12-31 of the catalog; the `medrobotics` command instead defaults to the two years
    ending yesterday (`world.default_history`)."""
    check_arguments(scale, seed)
    start, end = start or catalog.HISTORY_START, end or catalog.HISTORY_END
    if start > end:
        raise ValueError(f"the history must start on or before its end, got {start} .. {end}")
    source_url = source_url or SourceDatabase().resolved_url()
    lake = lake or Lake()
    with lake_io.lake_errors("open the lake"):
        lake_io.open_backend(lake)
    world = build_world(scale, seed, start, end)
    counts: dict = {}
    # One transaction: if writing telemetry fails, the source stays as it was.
    with transaction(source_url, settings.SOURCE_DB_URL) as conn:
        prepare(conn, lake, reset)
        for table, rows in world.rows.items():
            counts[table] = source_schema.copy_rows(conn, table, rows)
        stats = {"samples": 0}
        counts["telemetry_files"] = lake_io.write_objects(lake, telemetry_objects(world.telemetry, seed, stats))
        counts["telemetry_samples"] = stats["samples"]
    history = {"first_day": start.isoformat(), "last_day": end.isoformat()}
    return {"scale": scale, "seed": seed, **history, **counts}


def check_arguments(scale: float, seed: int) -> None:
    """Reject a scale that is not a positive finite number and a bad seed."""
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not 0 < scale < float("inf"):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    check_seed(seed)


def check_seed(seed: int) -> None:
    """Reject a seed that is not a non-negative integer (numpy seeds must be)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def prepare(conn, lake: Lake, reset: bool) -> None:
    """Leave an empty operational schema and no raw telemetry, or refuse if data exists and reset is off."""
    if reset:
        source_schema.drop_tables(conn)
        lake_io.delete_prefix(lake, RAW_TELEMETRY_PREFIX)
    source_schema.apply_schema(conn)
    filled = {table: n for table, n in source_schema.row_counts(conn).items() if n}
    if filled:
        listing = ", ".join(f"{table} ({n} rows)" for table, n in filled.items())
        raise SourceNotEmpty(f"the source database already holds data: {listing}; pass --reset to replace it")
    if lake_io.has_objects(lake, RAW_TELEMETRY_PREFIX):
        where = lake.uri(RAW_TELEMETRY_PREFIX.rstrip("/"))
        raise SourceNotEmpty(f"the lake already holds raw telemetry under {where}/; pass --reset to replace it")
