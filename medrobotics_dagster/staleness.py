"""What a `demo` must load: daily partitions never materialized, and days whose source data changed.

Each run records the data versions it loaded as observations of the source assets: the day's raw files'
(key, ETag) as the data version of `raw/telemetry`'s partition, each UTC day's procedures and outcomes as
`day_versions` of `source/surgical_procedures`. A day whose files or rows differ from the last recorded version
is stale, and so is the day after a changed procedures day (its telemetry resolves the procedures of the day
before).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import dagster as dg
import pandas as pd
import psycopg2.errors

from medrobotics_dagster.defs.sources.raw_telemetry import RAW_TELEMETRY_KEY
from medrobotics_dagster.raw_telemetry_paths import RAW_TELEMETRY_PREFIX
from medrobotics_dagster.resources.databases import SourceDatabase
from medrobotics_dagster.resources.lake import Lake

PROCEDURES_SOURCE_KEY = dg.AssetKey(["source", "surgical_procedures"])
DATA_VERSION_TAG = "dagster/data_version"
NO_FILES = "no-files"
# The operational tables behind the unpartitioned staging extracts, snapshots and dimensions.
DIMENSION_TABLES = ("facilities", "surgeons", "surgical_robots", "robot_maintenance_logs")


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


@dataclass
class SourceVersions:
    """Per-day data versions of the daily sources: raw telemetry files and operational procedure rows."""

    telemetry: dict[str, str] = field(default_factory=dict)  # day -> hash of the day's (key, ETag) pairs
    procedures: dict[str, str] = field(default_factory=dict)  # day -> hash of the day's procedure + outcome rows
    files: dict[str, int] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)  # dimension source table -> hash of its rows

    @classmethod
    def current(cls, source: SourceDatabase, lake: Lake) -> SourceVersions:
        from medrobotics_dagster.defs.telemetry.raw_files import classify, day_versions

        versions = cls()
        files, _ = classify(lake.list(RAW_TELEMETRY_PREFIX))
        versions.telemetry = day_versions(files)  # the data versions the sensor keeps too
        versions.files = dict(Counter(raw.day.isoformat() for raw in files))
        try:
            frame = source.read_frame(
                "SELECT p.start_time::date AS day, md5(string_agg(md5(p::text || coalesce(o::text, '')), '' "
                "ORDER BY p.procedure_id, o.outcome_id)) AS version "
                "FROM surgical_procedures p LEFT JOIN procedure_outcomes o ON o.procedure_id = p.procedure_id "
                "GROUP BY 1"
            )
        except psycopg2.errors.UndefinedTable:
            return versions
        versions.procedures = {d.isoformat(): v[:20] for d, v in zip(frame["day"], frame["version"], strict=True)}
        versions.tables = dimension_versions(source)
        return versions

    @classmethod
    def recorded(cls, instance: dg.DagsterInstance) -> SourceVersions:
        """The versions the last successful demo runs loaded, from the source assets' latest observations."""
        versions = cls()
        seen: set[str] = set()
        cursor = None
        while True:  # newest first: the first observation of each partition is its latest
            result = instance.fetch_observations(
                dg.AssetRecordsFilter(asset_key=RAW_TELEMETRY_KEY), limit=5000, cursor=cursor
            )
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
        versions.tables = recorded_dimension_versions(instance)
        latest = instance.fetch_observations(dg.AssetRecordsFilter(asset_key=PROCEDURES_SOURCE_KEY), limit=1).records
        if latest and latest[0].asset_observation is not None:
            entry = latest[0].asset_observation.metadata.get("day_versions")
            if entry is not None:
                versions.procedures = dict(entry.value)
        return versions

    def changed_days(self, before: SourceVersions) -> set[str]:
        """Days whose telemetry or procedures differ (and the day after a procedures change)."""
        stale = {
            d for d in set(self.telemetry) | set(before.telemetry) if self.telemetry.get(d) != before.telemetry.get(d)
        }
        for d in set(self.procedures) | set(before.procedures):
            if self.procedures.get(d) != before.procedures.get(d):
                stale |= {d, (date.fromisoformat(d) + timedelta(days=1)).isoformat()}
        return stale

    def record_tables(self, instance: dg.DagsterInstance, before: SourceVersions) -> None:
        """Observe the dimension source tables whose rows changed since the last recorded load."""
        for table, version in self.tables.items():
            if before.tables.get(table) != version:
                instance.report_runless_asset_event(
                    dg.AssetObservation(asset_key=dg.AssetKey(["source", table]), tags={DATA_VERSION_TAG: version})
                )

    def record(self, instance: dg.DagsterInstance, before: SourceVersions, days: set[str]) -> None:
        """Observe the loaded versions of `days` (only those that changed) on the source assets."""
        observations = []
        for day in sorted(days):
            version = self.telemetry.get(day)
            if version is None and day in before.telemetry:
                version = NO_FILES  # the day's files were removed: observed as such
            if version is not None and before.telemetry.get(day) != version:
                observations.append(
                    dg.AssetObservation(
                        asset_key=RAW_TELEMETRY_KEY,
                        partition=day,
                        tags={DATA_VERSION_TAG: version},
                        metadata={"files": self.files.get(day, 0)},
                    )
                )
        report_observations(instance, observations)
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


def report_observations(instance: dg.DagsterInstance, observations: list[dg.AssetObservation]) -> None:
    """Runless observations written as one batch (as Dagster writes a run's events when DAGSTER_EVENT_BATCH_SIZE
    is set) instead of one write each: a first demo observes every day of two years."""
    from dagster._core.events import AssetObservationData, DagsterEvent, DagsterEventBatchMetadata, DagsterEventType
    from dagster._core.instance.utils import RUNLESS_JOB_NAME, RUNLESS_RUN_ID

    batch_id = uuid.uuid4().hex
    for i, observation in enumerate(observations):
        event = DagsterEvent(
            event_type_value=DagsterEventType.ASSET_OBSERVATION.value,
            event_specific_data=AssetObservationData(observation),
            job_name=RUNLESS_JOB_NAME,
        )
        end = DagsterEventBatchMetadata(batch_id, i == len(observations) - 1)
        instance.report_dagster_event(event, run_id=RUNLESS_RUN_ID, batch_metadata=end)


def dimension_versions(source: SourceDatabase) -> dict[str, str]:
    """A hash of each dimension source table's rows (the tables are small: thousands of rows)."""
    versions = {}
    for table in DIMENSION_TABLES:  # fixed names, not input
        frame = source.read_frame(
            f"SELECT md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), '')) AS v FROM {table} t"
        )
        versions[table] = frame.iloc[0]["v"][:20]
    return versions


def recorded_dimension_versions(instance: dg.DagsterInstance) -> dict[str, str]:
    versions = {}
    for table in DIMENSION_TABLES:
        latest = instance.fetch_observations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(["source", table])), limit=1
        ).records
        if latest and latest[0].asset_observation is not None:
            versions[table] = (latest[0].asset_observation.tags or {}).get(DATA_VERSION_TAG, "")
    return versions


def missing_days(instance: dg.DagsterInstance, keys: list[dg.AssetKey], window: list[str]) -> set[str]:
    """Days of `window` that some daily asset has never materialized (Dagster's materialization status)."""
    wanted = set(window)
    missing: set[str] = set()
    for key in keys:
        missing |= wanted - set(instance.get_materialized_partitions(key))
    return missing


def partition_window(days: tuple[date, date]) -> list[str]:
    """The partitions that can hold the source's data: its first procedure day (or the partitions' start, if
    later) through the day after its last (telemetry of a case crossing midnight), or the last partition."""
    from medrobotics_dagster.partitions import daily_partitions

    first = days[0].isoformat()
    last = min((days[1] + timedelta(days=1)).isoformat(), daily_partitions.get_last_partition_key() or "")
    return [k for k in daily_partitions.get_partition_keys() if first <= k <= last]


def partition_range(days: tuple[date, date] | None) -> tuple[str, str] | None:
    """The first and last partition of `partition_window(days)`, or None when no partition can hold them."""
    window = partition_window(days) if days is not None else []
    return (window[0], window[-1]) if window else None
