"""`medrobotics demo`: data in the source if there is none, every asset and partition built, a summary printed.

A second `demo` loads only what changed. Dagster knows what is stale:
- materialization status: a daily partition any daily asset lacks (a new day, a failed run) is stale;
- data versions of the sources: each run records what it loaded as observations of the source assets (the
  day's raw files' (key, ETag) as the data version of `raw/telemetry`'s partition; each UTC day's procedures
  and outcomes as `day_versions` of `source/surgical_procedures`). A day whose files or rows differ from the
  last recorded version is stale, and so is the day after a changed procedures day (its telemetry resolves
  the procedures of the day before).
The unpartitioned assets (staging dimensions, snapshots, dimensions, views) are small and always rebuilt.

The terminal gets one line per step (a progress bar on long steps when it is a terminal) and the table of
counts; dbt's and Dagster's full logs go to a file under the local state directory (`--verbose`: terminal).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator, Optional, TextIO

import dagster as dg
import pandas as pd
import psycopg2.errors

from medrobotics_dagster import settings
from medrobotics_dagster.resources.databases import SourceDatabase, Warehouse
from medrobotics_dagster.resources.lake import Lake

WAREHOUSE_SCHEMAS = ("staging", "snapshots", "analytics")
REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
INSTANCE_TEMPLATE = REPOSITORY_ROOT / "dagster.yaml"
RAW_TELEMETRY_KEY = dg.AssetKey(["raw", "telemetry"])
PROCEDURES_SOURCE_KEY = dg.AssetKey(["source", "surgical_procedures"])
DATA_VERSION_TAG = "dagster/data_version"
NO_FILES = "no-files"
# More separate stale ranges than this become one run over their span (re-materializing is idempotent).
MAX_RANGES = 4


def _console_config(level: str) -> dict:
    return {"loggers": {"console": {"config": {"log_level": level}}}}


class MaterializationFailed(Exception):
    """A Dagster run of the demo failed; its logs say why."""


def procedure_days(source: SourceDatabase) -> tuple[date, date] | None:
    """The first and last UTC day with procedures, or None when the source holds none."""
    try:
        frame = source.read_frame(
            "SELECT min(start_time)::date AS first, max(start_time)::date AS last FROM surgical_procedures"
        )
    except psycopg2.errors.UndefinedTable:  # no operational schema yet: empty
        return None
    first, last = frame.iloc[0]["first"], frame.iloc[0]["last"]
    return None if pd.isna(first) else (first, last)


def prepare_dagster_home() -> Path:
    """The local Dagster instance directory under the local state directory, with the repository's dagster.yaml."""
    home = settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if INSTANCE_TEMPLATE.exists() and (not config.exists() or config.read_bytes() != INSTANCE_TEMPLATE.read_bytes()):
        shutil.copyfile(INSTANCE_TEMPLATE, config)
    return home


def dagster_instance() -> dg.DagsterInstance:
    """The instance `dagster dev` shows: DAGSTER_HOME when set, else `.medrobotics/dagster/` (prepared here)."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.from_config(str(prepare_dagster_home()))


def warehouse_row_counts(warehouse: Warehouse) -> list[tuple[str, int]]:
    from medrobotics_dagster.io_managers.warehouse_sql import qualified

    tables = warehouse.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN %s AND table_type = 'BASE TABLE' ORDER BY 1, 2",
        (WAREHOUSE_SCHEMAS,),
    )
    return [(f"{s}.{t}", warehouse.query(f"SELECT count(*) FROM {qualified(s, t)}")[0][0]) for s, t in tables]


def telemetry_summary(warehouse: Warehouse, lake: Lake) -> str:
    """One line: telemetry rows loaded, lines quarantined, raw files in the lake."""
    from medrobotics_dagster.defs.sources.raw_telemetry import RAW_TELEMETRY_PREFIX

    rows = warehouse.query("SELECT count(*) FROM analytics.fact_procedure_telemetry")[0][0]
    quarantined = warehouse.query("SELECT count(*) FROM analytics.telemetry_quarantine")[0][0]
    files = sum(1 for _ in lake.list(RAW_TELEMETRY_PREFIX))
    return f"telemetry: {rows:,} rows loaded, {quarantined:,} lines quarantined, {files:,} raw files"


# ---------------------------------------------------------------------------------------------- the terminal


class Console:
    """One line per step on the terminal; everything else (dbt, Dagster, warnings) in the log file."""

    def __init__(self, echo: Optional[Callable[[str], None]], log_path: Path, verbose: bool):
        self.log_path, self.verbose = log_path, verbose
        self._terminal: Optional[TextIO] = None
        self._echo = echo
        self.interactive = False

    def say(self, text: str) -> None:
        if self._echo is not None:
            self._echo(text)
        else:
            stream = self._terminal or sys.stdout
            stream.write(text + "\n")
            stream.flush()

    @contextmanager
    def captured(self) -> Iterator[None]:
        """Route file descriptors 1 and 2 (this process, dbt's subprocesses, Python warnings) to the log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.verbose:
            yield
            return
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        self._terminal = os.fdopen(os.dup(saved[0]), "w", buffering=1)
        self.interactive = self._echo is None and self._terminal.isatty()
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        # Python-level streams too: a host (pytest, a notebook) may have replaced sys.stdout/sys.stderr.
        streams = sys.stdout, sys.stderr
        text = os.fdopen(os.dup(log), "w", buffering=1)
        try:
            os.dup2(log, 1)
            os.dup2(log, 2)
            sys.stdout = sys.stderr = text
            with warnings.catch_warnings():
                warnings.simplefilter("default")  # shown once each, in the log
                yield
        finally:
            text.flush()
            sys.stdout, sys.stderr = streams
            text.close()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in (*saved, log):
                os.close(fd)
            self._terminal.close()
            self._terminal = None
            self.interactive = False

    @contextmanager
    def step(self, label: str, expected_events: int = 0) -> Iterator[None]:
        """`label ... 12.3 s`; with `expected_events`, a progress bar fed by the materializations in the log."""
        started = time.monotonic()
        bar = _ProgressBar(self, label, expected_events) if expected_events and self.interactive else None
        if bar is not None:
            bar.start()
        elif self.interactive and self._terminal is not None:
            self._terminal.write(f"{label} ...")
            self._terminal.flush()
        ok = False
        try:
            yield
            ok = True
        finally:
            if bar is not None:
                bar.stop()
            elif self.interactive and self._terminal is not None:
                self._terminal.write("\r\033[K")
            took = time.monotonic() - started
            self.say(f"{label}: {'done' if ok else 'FAILED'} in {took:.1f} s")


class _ProgressBar(threading.Thread):
    """Counts ASSET_MATERIALIZATION events appended to the log file and redraws one terminal line."""

    WIDTH = 30

    def __init__(self, console: Console, label: str, expected: int):
        super().__init__(daemon=True)
        self.console, self.label, self.expected = console, label, expected
        self.offset = console.log_path.stat().st_size if console.log_path.exists() else 0
        self.count = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self._read()
            self._draw()

    def _read(self) -> None:
        try:
            with open(self.console.log_path, "rb") as log:
                log.seek(self.offset)
                chunk = log.read()
        except OSError:
            return
        complete = chunk.rfind(b"\n") + 1
        self.offset += complete
        self.count += chunk[:complete].count(b"ASSET_MATERIALIZATION")

    def _draw(self) -> None:
        share = min(1.0, self.count / self.expected)
        filled = int(share * self.WIDTH)
        terminal = self.console._terminal
        if terminal is not None:
            terminal.write(f"\r{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%}")
            terminal.flush()

    def stop(self) -> None:
        self.done.set()
        self.join()
        terminal = self.console._terminal
        if terminal is not None:
            terminal.write("\r\033[K")
            terminal.flush()


# ------------------------------------------------------------------------------------- what is stale and why


@dataclass
class SourceVersions:
    """Per-day data versions of the daily sources: raw telemetry files and operational procedure rows."""

    telemetry: dict[str, str] = field(default_factory=dict)  # day -> hash of the day's (key, ETag) pairs
    procedures: dict[str, str] = field(default_factory=dict)  # day -> hash of the day's procedure + outcome rows
    files: dict[str, int] = field(default_factory=dict)

    @classmethod
    def current(cls, source: SourceDatabase, lake: Lake) -> "SourceVersions":
        from medrobotics_dagster.defs.telemetry.raw_files import RAW_TELEMETRY_PREFIX, classify

        versions = cls()
        files, _ = classify(lake.list(RAW_TELEMETRY_PREFIX))
        by_day: dict[str, list[str]] = {}
        for raw in files:
            by_day.setdefault(raw.day.isoformat(), []).append(f"{raw.key}\t{raw.etag}")
        for day, entries in by_day.items():
            versions.telemetry[day] = hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()[:20]
            versions.files[day] = len(entries)
        try:
            frame = source.read_frame(
                "SELECT p.start_time::date AS day, md5(string_agg(md5(p::text || coalesce(o::text, '')), '' "
                "ORDER BY p.procedure_id, o.outcome_id)) AS version "
                "FROM surgical_procedures p LEFT JOIN procedure_outcomes o ON o.procedure_id = p.procedure_id GROUP BY 1"
            )
        except psycopg2.errors.UndefinedTable:
            return versions
        versions.procedures = {d.isoformat(): v[:20] for d, v in zip(frame["day"], frame["version"])}
        return versions

    @classmethod
    def recorded(cls, instance: dg.DagsterInstance) -> "SourceVersions":
        """The versions the last successful demo runs loaded, from the source assets' latest observations."""
        versions = cls()
        seen: set[str] = set()
        cursor = None
        while True:  # newest first: the first observation of each partition is its latest
            result = instance.fetch_observations(dg.AssetRecordsFilter(asset_key=RAW_TELEMETRY_KEY), limit=5000, cursor=cursor)
            for record in result.records:
                event = record.asset_observation
                if event is not None and event.partition and event.partition not in seen:
                    seen.add(event.partition)
                    version = (event.tags or {}).get(DATA_VERSION_TAG, "")
                    if version != NO_FILES:
                        versions.telemetry[event.partition] = version
            if not result.has_more:
                break
            cursor = result.cursor
        latest = instance.fetch_observations(dg.AssetRecordsFilter(asset_key=PROCEDURES_SOURCE_KEY), limit=1).records
        if latest and latest[0].asset_observation is not None:
            entry = latest[0].asset_observation.metadata.get("day_versions")
            if entry is not None:
                versions.procedures = dict(entry.value)
        return versions

    def changed_days(self, before: "SourceVersions") -> set[str]:
        """Days whose telemetry or procedures differ (and the day after a procedures change)."""
        stale = {d for d in set(self.telemetry) | set(before.telemetry) if self.telemetry.get(d) != before.telemetry.get(d)}
        for d in set(self.procedures) | set(before.procedures):
            if self.procedures.get(d) != before.procedures.get(d):
                stale |= {d, (date.fromisoformat(d) + timedelta(days=1)).isoformat()}
        return stale

    def record(self, instance: dg.DagsterInstance, before: "SourceVersions", days: set[str]) -> None:
        """Observe the loaded versions of `days` (only those that changed) on the source assets."""
        for day in sorted(days):
            version = self.telemetry.get(day)
            if version is None and day in before.telemetry:
                version = NO_FILES  # the day's files were removed: observed as such
            if version is not None and before.telemetry.get(day) != version:
                instance.report_runless_asset_event(
                    dg.AssetObservation(
                        asset_key=RAW_TELEMETRY_KEY,
                        partition=day,
                        tags={DATA_VERSION_TAG: version},
                        metadata={"files": self.files.get(day, 0)},
                    )
                )
        loaded = {d: v for d, v in before.procedures.items() if d not in days}
        loaded.update({d: v for d, v in self.procedures.items() if d in days})
        if loaded != before.procedures:
            overall = hashlib.sha256(json.dumps(loaded, sort_keys=True).encode()).hexdigest()[:20]
            instance.report_runless_asset_event(
                dg.AssetObservation(
                    asset_key=PROCEDURES_SOURCE_KEY,
                    tags={DATA_VERSION_TAG: overall},
                    metadata={
                        "day_versions": dg.MetadataValue.json(loaded),
                        "days": len(loaded),
                        "covers": "surgical_procedures joined to procedure_outcomes, by UTC day of start_time",
                    },
                )
            )


def daily_asset_keys(defs: dg.Definitions) -> list[dg.AssetKey]:
    return [k for a in (defs.assets or []) if isinstance(a, dg.AssetsDefinition) and a.partitions_def for k in a.keys]


def missing_days(instance: dg.DagsterInstance, keys: list[dg.AssetKey], window: list[str]) -> set[str]:
    """Days of `window` that some daily asset has never materialized (Dagster's materialization status)."""
    wanted = set(window)
    missing: set[str] = set()
    for key in keys:
        missing |= wanted - set(instance.get_materialized_partitions(key))
    return missing


def day_ranges(days: set[str]) -> list[tuple[str, str]]:
    """Sorted days as runs of consecutive days; more than MAX_RANGES become one range over their span."""
    ranges: list[list[date]] = []
    for day in sorted(date.fromisoformat(d) for d in days):
        if ranges and day - ranges[-1][1] == timedelta(days=1):
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    if len(ranges) > MAX_RANGES:
        ranges = [[ranges[0][0], ranges[-1][1]]]
    return [(a.isoformat(), b.isoformat()) for a, b in ranges]


def partition_window(days: tuple[date, date]) -> list[str]:
    """The partitions the demo keeps materialized: from the partitions' start (days before the data are empty,
    not missing) through the day after the last procedure day (telemetry of a case crossing midnight)."""
    from medrobotics_dagster.partitions import daily_partitions

    last = min((days[1] + timedelta(days=1)).isoformat(), daily_partitions.get_last_partition_key())
    return [k for k in daily_partitions.get_partition_keys() if k <= last]


# ---------------------------------------------------------------------------------------------- materializing


def _materialize(defs, instance, selection, tags, level: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets or []),
        selection=selection,
        resources=dict(defs.resources or {}),
        instance=instance,
        tags=tags,
        raise_on_error=False,
        run_config=_console_config(level),
    )


def _check(result: dg.ExecuteInProcessResult, label: str, log_hint: str = "") -> None:
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.is_step_failure]
        raise MaterializationFailed(f"{label} failed in {failed}; see run {result.run_id} in the Dagster UI{log_hint}")


def whole_selections(defs: dg.Definitions) -> tuple[dg.AssetSelection, dg.AssetSelection]:
    """The unpartitioned assets the daily ones read (staging dimensions, snapshots, dimensions), and those that
    read the daily ones (views over the facts: on a fresh warehouse they can only be built after them)."""
    daily = dg.AssetSelection.assets(*daily_asset_keys(defs))
    whole = dg.AssetSelection.all().materializable() - daily
    after = whole & daily.downstream(include_self=False)
    return whole - after, after


def range_tags(first: str, last: str) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def materialize_all(
    defs: dg.Definitions, instance: dg.DagsterInstance, days: tuple[date, date] | None, echo: Callable[[str], None] = print
) -> None:
    """The unpartitioned assets first, then every daily partition from `days[0]` to `days[1]` (+1) in one run."""
    from medrobotics_dagster.partitions import daily_partitions

    before, after = whole_selections(defs)
    label = "unpartitioned assets (staging dimensions, snapshots, dimensions)"
    echo(f"materializing {label} ...")
    _check(_materialize(defs, instance, before, {}, "WARNING"), f"materializing {label}")
    if days is not None:
        first = days[0].strftime("%Y-%m-%d")
        last = min((days[1] + timedelta(days=1)).strftime("%Y-%m-%d"), daily_partitions.get_last_partition_key())
        label = f"daily partitions {first} .. {last} in one run"
        echo(f"materializing {label} ...")
        daily = dg.AssetSelection.assets(*daily_asset_keys(defs))
        _check(_materialize(defs, instance, daily, range_tags(first, last), "WARNING"), f"materializing {label}")
    echo("materializing the views over the facts ...")
    _check(_materialize(defs, instance, after, {}, "WARNING"), "materializing the views")


def run_demo(
    scale: float = 1.0,
    seed: int = 42,
    echo: Optional[Callable[[str], None]] = None,
    start: Optional[date] = None,
    end: Optional[date] = None,
    verbose: bool = False,
) -> list[tuple[str, int]]:
    """Check every setting, generate if empty, build what is stale (everything the first time), report counts.

    `echo` receives the terminal lines (default: the terminal); `start`/`end` bound a world generated here
    (default: the two years ending yesterday)."""
    from medrobotics_dagster.resources.preflight import preflight
    from medrobotics_dagster.synthetic.generator import generate
    from medrobotics_dagster.synthetic.world import default_history

    source, warehouse, lake = SourceDatabase(), Warehouse(), Lake()
    preflight(lake=lake, source=source, warehouse=warehouse)  # one line naming the setting, before any write
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    console = Console(echo, settings.log_dir() / f"demo-{stamp}.log", verbose)
    console.say(f"full log: {console.log_path}" if not verbose else "verbose: every dbt and Dagster log line follows")
    total = time.monotonic()

    with console.captured():
        days = procedure_days(source)
        if days is None:
            default_start, default_end = default_history(end)
            start, end = start or default_start, end or default_end
            with console.step(f"generating a synthetic world (scale {scale}, seed {seed}, {start} .. {end})"):
                counts = generate(source.resolved_url(), lake, scale=scale, seed=seed, start=start, end=end)
            console.say(
                f"  {counts['surgical_procedures']:,} procedures, {counts['telemetry_samples']:,} telemetry samples "
                f"in {counts['telemetry_files']:,} files"
            )
            days = procedure_days(source)
        else:
            console.say(f"source: procedures {days[0]} .. {days[1]} (already generated; `medrobotics generate --reset` to replace)")

        with console.step("loading definitions (dbt manifest)"):
            from medrobotics_dagster.defs.warehouse.dbt_environment import dbt_connection_env
            from medrobotics_dagster.defs.warehouse.dbt_project import ensure_partial_parse

            with warnings.catch_warnings():
                # Beta parameters the platform uses on purpose (backfill_policy, partition mappings).
                warnings.simplefilter("ignore", dg.BetaWarning)
                from medrobotics_dagster.definitions import defs
            ensure_partial_parse(dbt_connection_env(warehouse.resolved_url(), warehouse.dialect))
            instance = dagster_instance()

        level = "INFO" if verbose else "DEBUG"
        first_whole, views = whole_selections(defs)
        with console.step("staging dimensions, snapshots, dimensions"):
            _check(_materialize(defs, instance, first_whole, {}, level), "the dimensions", _hint(console))

        window = partition_window(days)
        keys = daily_asset_keys(defs)
        with console.step("finding stale partitions"):
            now, before = SourceVersions.current(source, lake), SourceVersions.recorded(instance)
            missing = missing_days(instance, keys, window)
            changed = now.changed_days(before) & set(window)
            stale = missing | changed
        if not stale:
            console.say(f"daily partitions {window[0]} .. {window[-1]}: all {len(window):,} up to date")
        else:
            console.say(
                f"daily partitions {window[0]} .. {window[-1]}: {len(stale):,} of {len(window):,} to load "
                f"({len(missing):,} not materialized, {len(changed - missing):,} with changed sources)"
            )
        daily = dg.AssetSelection.assets(*keys)
        for first, last in day_ranges(stale):
            count = len([d for d in window if first <= d <= last])
            with console.step(f"  loading {first} .. {last} ({count:,} day{'s' if count > 1 else ''})", count * len(keys)):
                result = _materialize(defs, instance, daily, range_tags(first, last), level)
                _check(result, f"loading {first} .. {last}", _hint(console))
        if stale:
            now.record(instance, before, set(window))
        with console.step("views"):
            _check(_materialize(defs, instance, views, {}, level), "the views", _hint(console))

    counts = warehouse_row_counts(warehouse)
    width = max((len(name) for name, _ in counts), default=10)
    console.say("\nwarehouse row counts:")
    for name, rows in counts:
        console.say(f"  {name:<{width}}  {rows:>9,}")
    console.say("\n" + telemetry_summary(warehouse, lake))
    console.say(f"\ndemo finished in {time.monotonic() - total:.1f} s")
    ui_home = os.environ.get("DAGSTER_HOME") or str(settings.dagster_home())
    console.say(f"open the UI:  DAGSTER_HOME={ui_home} .venv/bin/dagster dev -w workspace.yaml   (then http://127.0.0.1:3000)")
    return counts


def _hint(console: Console) -> str:
    return "" if console.verbose else f" and the log {console.log_path}"
