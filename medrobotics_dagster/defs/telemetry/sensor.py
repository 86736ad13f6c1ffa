"""The sensor on `raw/telemetry/`: new, late or overwritten files become runs of their days, never of single files.

Cursor: a LastModified watermark plus the (key, ETag) pairs already handled within an overlap window below it,
never a key name (keys sort by procedure, so new files do not arrive in key order; S3 LastModified has
one-second resolution and is the start time of a multipart upload). Files of days that are not partitions
yet (today) wait in the cursor until their day closes.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Iterable

import dagster as dg

from medrobotics_dagster.defs.staging.operational_extracts import staging_key
from medrobotics_dagster.defs.telemetry.assets import FACT_KEY, QUARANTINE_KEY, SAMPLES_KEY
from medrobotics_dagster.defs.telemetry.raw_files import RAW_TELEMETRY_PREFIX, RawFile, parse_key
from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster.resources.lake import Lake, LakeObject

# Files whose LastModified is this much older than the watermark are taken as handled.
OVERLAP = timedelta(minutes=15)
# Work per tick stays far below Dagster's ~60 s tick limit; the rest waits for the next tick.
MAX_FILES_PER_TICK = 50_000
MAX_DAYS_PER_RUN = 62

telemetry_job = dg.define_asset_job(
    "telemetry_files_job",
    selection=dg.AssetSelection.assets(staging_key("surgical_procedures"), SAMPLES_KEY, QUARANTINE_KEY, FACT_KEY),
    description="A day's (or a range's) procedures extract and telemetry: what the file sensor runs.",
    tags={"dagster/max_runtime": "1800"},  # seed 000's 30-minute alarm; a string, or Dagster ignores it
)


@dataclass
class TelemetryCursor:
    watermark: datetime | None = None
    handled: dict[str, str] = field(default_factory=dict)  # key -> ETag, LastModified >= watermark - OVERLAP
    pending: dict[str, str] = field(default_factory=dict)  # key -> ETag of files whose day is not a partition yet

    def to_json(self) -> str:
        return json.dumps(
            {"watermark": self.watermark.isoformat() if self.watermark else None, "handled": self.handled, "pending": self.pending},
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> "TelemetryCursor | None":
        if not text:
            return None
        data = json.loads(text)
        watermark = datetime.fromisoformat(data["watermark"]) if data.get("watermark") else None
        return cls(watermark, dict(data.get("handled", {})), dict(data.get("pending", {})))


def new_objects(objects: list[LakeObject], cursor: TelemetryCursor) -> list[LakeObject]:
    """Objects not handled yet: inside the overlap window with an unseen (key, ETag), or waiting for their day."""
    floor = cursor.watermark - OVERLAP if cursor.watermark else None
    fresh = []
    for obj in objects:
        if cursor.pending.get(obj.key) == obj.etag:
            fresh.append(obj)
        elif (floor is None or obj.last_modified >= floor) and cursor.handled.get(obj.key) != obj.etag:
            fresh.append(obj)
    return sorted(fresh, key=lambda o: (o.last_modified, o.key))


def contiguous_ranges(days: Iterable[date], max_days: int = MAX_DAYS_PER_RUN) -> list[tuple[date, date]]:
    """Sorted days grouped into runs of consecutive days, each at most `max_days` long."""
    ranges: list[list[date]] = []
    for day in sorted(set(days)):
        if ranges and day - ranges[-1][1] == timedelta(days=1) and (day - ranges[-1][0]).days < max_days:
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return [(first, last) for first, last in ranges]


def run_request_for(first: date, last: date, files: list[RawFile]) -> dg.RunRequest:
    """One run for a day or a range; its run_key changes when any file of the batch changes (new ETag)."""
    batch = hashlib.sha256("\n".join(sorted(f"{f.key}\t{f.etag}" for f in files)).encode()).hexdigest()[:16]
    start, end = first.isoformat(), last.isoformat()
    if first == last:
        return dg.RunRequest(run_key=f"telemetry:{start}:{batch}", partition_key=start, tags={"medrobotics/trigger": "raw_telemetry"})
    return dg.RunRequest(
        run_key=f"telemetry:{start}..{end}:{batch}",
        tags={
            "dagster/asset_partition_range_start": start,
            "dagster/asset_partition_range_end": end,
            "medrobotics/trigger": "raw_telemetry",
        },
    )


def evaluate(
    objects: list[LakeObject], cursor: TelemetryCursor | None, materialized_days: set[str], now: datetime, log
) -> tuple[list[dg.RunRequest], TelemetryCursor]:
    """The run requests and the next cursor for one listing of the raw prefix (pure: no I/O)."""
    first_tick = cursor is None
    cursor = cursor or TelemetryCursor()
    candidates = new_objects(objects, cursor)[:MAX_FILES_PER_TICK]
    partition_days = daily_partitions.get_partition_keys(current_time=now)
    first_day, last_day = (date.fromisoformat(partition_days[0]), date.fromisoformat(partition_days[-1])) if partition_days else (None, None)
    listed = {obj.key for obj in objects}
    candidate_keys = {obj.key for obj in candidates}
    handled = dict(cursor.handled)
    pending = {k: e for k, e in cursor.pending.items() if k in listed and k not in candidate_keys}
    to_load: dict[date, list[RawFile]] = {}
    malformed, too_early = [], []
    for obj in candidates:
        raw = parse_key(obj)
        if raw is None:
            malformed.append(obj.key)
        elif first_day is None or raw.day < first_day:
            too_early.append(obj.key)
        elif raw.day > last_day:
            pending[obj.key] = obj.etag  # its day is not a partition yet: ask again when it is
            continue
        elif not (first_tick and raw.day.isoformat() in materialized_days):
            to_load.setdefault(raw.day, []).append(raw)
        handled[obj.key] = obj.etag
    if malformed:
        log.warning(f"skipped {len(malformed)} key(s) that do not follow the contract, e.g. {malformed[0]!r}")
    if too_early:
        log.warning(f"skipped {len(too_early)} file(s) of days before the partitions start ({daily_partitions.start:%Y-%m-%d}), e.g. {too_early[0]!r}")
    requests = [
        run_request_for(a, b, [f for day, files in to_load.items() if a <= day <= b for f in files])
        for a, b in contiguous_ranges(to_load)
    ]
    stamps = [obj.last_modified for obj in candidates if obj.key in handled] + ([cursor.watermark] if cursor.watermark else [])
    watermark = max(stamps) if stamps else None
    by_key = {obj.key: obj for obj in objects}
    floor = watermark - OVERLAP if watermark else None
    kept = {k: e for k, e in handled.items() if k in by_key and (floor is None or by_key[k].last_modified >= floor)}
    return requests, TelemetryCursor(watermark, kept, pending)


@dg.sensor(
    job=telemetry_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Loads the days of new, late or overwritten files under raw/telemetry/ (one run per day or range of days).",
)
def raw_telemetry_sensor(context: dg.SensorEvaluationContext, lake: Lake) -> dg.SensorResult:
    objects = list(lake.list(RAW_TELEMETRY_PREFIX))  # one listing per tick
    cursor = TelemetryCursor.from_json(context.cursor)
    materialized = context.instance.get_materialized_partitions(SAMPLES_KEY) if cursor is None else set()
    requests, next_cursor = evaluate(objects, cursor, materialized, datetime.now(timezone.utc), context.log)
    if requests:
        context.log.info(f"{len(objects)} object(s) listed; requesting {len(requests)} run(s)")
    return dg.SensorResult(run_requests=requests, cursor=next_cursor.to_json())
