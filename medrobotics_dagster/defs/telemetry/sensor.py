"""The sensor on `raw/telemetry/`: new, late or overwritten files become runs of their days, never of single files.

Cursor: a LastModified watermark plus the (key, ETag) pairs already handled within an overlap window below it,
never a key name (keys sort by procedure, so new files do not arrive in key order; S3 LastModified has
one-second resolution and is the start time of a multipart upload). Files of days that are not partitions
yet (today) wait in the cursor until their day closes.

The cursor also keeps each day's data version (a hash of its files' keys and ETags, archived copies included)
as last loaded: a day runs again when its version changes — a new or overwritten file, or a key deleted
(which lists as nothing) — and not when identical bytes are uploaded again (same ETag, same version). A day
whose load failed on a fault runs again on later ticks without any file change (recovery.py).
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from medrobotics_dagster import settings
from medrobotics_dagster.defs.staging.operational_extracts import staging_key
from medrobotics_dagster.defs.telemetry.assets import FACT_KEY, QUARANTINE_KEY, SAMPLES_KEY
from medrobotics_dagster.defs.telemetry.raw_files import (
    ARCHIVE_PREFIX,
    RawFile,
    classify,
    day_versions,
    from_archive,
    parse_key,
)
from medrobotics_dagster.defs.telemetry.recovery import RETRIED_DAYS_TAG, due_retries, failed_days
from medrobotics_dagster.partitions import daily_partitions, day_ranges, range_tags
from medrobotics_dagster.raw_telemetry_paths import RAW_TELEMETRY_PREFIX
from medrobotics_dagster.resources.lake import Lake, LakeObject

# Files whose LastModified is this much older than the watermark are taken as handled.
OVERLAP = timedelta(minutes=15)
# Work per tick stays far below Dagster's ~60 s tick limit; the rest waits for the next tick.
MAX_FILES_PER_TICK = 50_000
MAX_DAYS_PER_RUN = 62
SENSOR_INTERVAL_S = settings.file_sensor_interval()

telemetry_job = dg.define_asset_job(
    "telemetry_files_job",
    selection=dg.AssetSelection.assets(staging_key("surgical_procedures"), SAMPLES_KEY, QUARANTINE_KEY, FACT_KEY),
    description="A day's (or a range's) procedures extract and telemetry: what the file sensor runs.",
    tags={"dagster/max_runtime": "1800"},  # the 30-minute limit; a string, or Dagster ignores it
)


@dataclass
class TelemetryCursor:
    watermark: datetime | None = None
    handled: dict[str, str] = field(default_factory=dict)  # key -> ETag, LastModified >= watermark - OVERLAP
    pending: dict[str, str] = field(default_factory=dict)  # key -> ETag of files whose day is not a partition yet
    days: dict[str, str] = field(default_factory=dict)  # day -> data version of its files when last loaded
    retries: dict[str, list] = field(default_factory=dict)  # failed day -> [retries so far, next retry (ISO)]

    def to_json(self) -> str:
        return json.dumps(
            {
                "watermark": self.watermark.isoformat() if self.watermark else None,
                "handled": self.handled,
                "pending": self.pending,
                "days": self.days,
                "retries": self.retries,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> "TelemetryCursor | None":
        if not text:
            return None
        data = json.loads(text)
        watermark = datetime.fromisoformat(data["watermark"]) if data.get("watermark") else None
        return cls(
            watermark,
            dict(data.get("handled", {})),
            dict(data.get("pending", {})),
            dict(data.get("days", {})),
            dict(data.get("retries", {})),
        )


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


def changed_days(
    candidate_days: set[str], versions: dict[str, str], known: dict[str, str], waiting: set[str]
) -> tuple[set[str], dict[str, str]]:
    """(days to load, the next known versions). A day with a new or changed file loads unless its version is the
    one last loaded (identical bytes again); a known day whose version changed without one (a key deleted)
    loads too. A day with files left for a later tick keeps its known version, so those files still count."""
    load = {day for day in candidate_days if known.get(day) is None or known[day] != versions.get(day)}
    load |= {day for day, version in known.items() if day not in waiting and versions.get(day) != version}
    following = {day: version for day, version in versions.items() if day not in waiting}
    following.update({day: known[day] for day in waiting if day in known})
    return load, following


def run_request_for(start: str, end: str, state: str, retried: list[str]) -> dg.RunRequest:
    """One run for a day or a range (partition keys); its run_key changes with the days' data versions (`state`);
    the days it tries again after a fault are in its tag RETRIED_DAYS_TAG (the UI filters recovery runs by it)."""
    batch = hashlib.sha256(state.encode()).hexdigest()[:16]
    trigger = {"medrobotics/trigger": "raw_telemetry", **({RETRIED_DAYS_TAG: ",".join(retried)} if retried else {})}
    if start == end:
        return dg.RunRequest(run_key=f"telemetry:{start}:{batch}", partition_key=start, tags=trigger)
    return dg.RunRequest(run_key=f"telemetry:{start}..{end}:{batch}", tags={**range_tags(start, end), **trigger})


def evaluate(
    objects: list[LakeObject],
    cursor: TelemetryCursor | None,
    materialized_days: set[str],
    now: datetime,
    log,
    archived: Sequence[LakeObject] = (),
    recovering: Mapping[str, int] | None = None,
) -> tuple[list[dg.RunRequest], TelemetryCursor]:
    """The run requests and the next cursor for one listing of the raw prefix and of the archive (pure: no I/O);
    `recovering` adds failed days due for a retry ({day: retry number})."""
    first_tick = cursor is None
    cursor = cursor or TelemetryCursor()
    candidates = new_objects(objects, cursor)[:MAX_FILES_PER_TICK]
    partition_days = daily_partitions.get_partition_keys(current_time=now)
    first_day, last_day = (
        (date.fromisoformat(partition_days[0]), date.fromisoformat(partition_days[-1]))
        if partition_days
        else (None, None)
    )
    listed = {obj.key for obj in objects}
    candidate_keys = {obj.key for obj in candidates}
    handled = dict(cursor.handled)
    pending = {k: e for k, e in cursor.pending.items() if k in listed and k not in candidate_keys}
    to_load: dict[date, list[RawFile]] = {}
    files, malformed = classify(candidates)
    too_early = []
    for raw in files:
        if first_day is None or raw.day < first_day:
            too_early.append(raw.key)
        elif raw.day > last_day:
            pending[raw.key] = raw.etag  # its day is not a partition yet: ask again when it is
        elif not (first_tick and raw.day.isoformat() in materialized_days):
            to_load.setdefault(raw.day, []).append(raw)
    handled.update({obj.key: obj.etag for obj in candidates if obj.key not in pending})
    if malformed:
        log.warning(f"skipped {len(malformed)} key(s) that do not follow the contract, e.g. {malformed[0]!r}")
    if too_early:
        log.warning(
            f"skipped {len(too_early)} file(s) of days before the partitions start "
            f"({daily_partitions.start:%Y-%m-%d}), e.g. {too_early[0]!r}"
        )
    waiting = waiting_days(objects, cursor)
    requests, days = _requests(objects, archived, to_load, cursor.days, waiting, (first_day, last_day), recovering)
    stamps = [obj.last_modified for obj in candidates if obj.key in handled] + (
        [cursor.watermark] if cursor.watermark else []
    )
    watermark = max(stamps) if stamps else None
    by_key = {obj.key: obj for obj in objects}
    floor = watermark - OVERLAP if watermark else None
    kept = {k: e for k, e in handled.items() if k in by_key and (floor is None or by_key[k].last_modified >= floor)}
    return requests, TelemetryCursor(watermark, kept, pending, days, dict(cursor.retries))


def waiting_days(objects: list[LakeObject], cursor: TelemetryCursor) -> set[str]:
    """Days of files beyond this tick's share (MAX_FILES_PER_TICK): the next tick handles them."""
    later = new_objects(objects, cursor)[MAX_FILES_PER_TICK:]
    return {raw.day.isoformat() for raw in map(parse_key, later) if raw is not None}


def _requests(
    objects: Sequence[LakeObject],
    archived: Sequence[LakeObject],
    to_load: dict[date, list[RawFile]],
    known: dict[str, str],
    waiting: set[str],
    bounds: tuple[date | None, date | None],
    recovering: Mapping[str, int] | None = None,
) -> tuple[list[dg.RunRequest], dict[str, str]]:
    """Run requests for the days whose data version changed or that are due for a retry, and the next known
    versions."""
    first_day, last_day = bounds
    raws = [raw for raw in map(parse_key, objects) if raw is not None]
    raws += [raw for raw in map(from_archive, archived) if raw is not None]
    in_range = [raw for raw in raws if first_day is not None and first_day <= raw.day <= last_day]
    versions = day_versions(in_range)
    load, following = changed_days({day.isoformat() for day in to_load}, versions, known, waiting)
    retry = {day: n for day, n in (recovering or {}).items() if day in following or day in known}
    load |= set(retry)
    requests = []
    for start, end in day_ranges(load, max_days=MAX_DAYS_PER_RUN):
        days = [day for day in sorted(load) if start <= day <= end]  # a range holds consecutive days only
        state = "\n".join(
            f"{d}:{known.get(d)}->{versions.get(d)}" + (f":retry {retry[d]}" if d in retry else "") for d in days
        )
        requests.append(run_request_for(start, end, state, [day for day in days if day in retry]))
    return requests, following


@dg.sensor(
    job=telemetry_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Loads the days of new, late or overwritten files under raw/telemetry/ (one run per day or range of days)."
    ),
)
def raw_telemetry_sensor(context: dg.SensorEvaluationContext, lake: Lake) -> dg.SensorResult:
    objects = list(lake.list(RAW_TELEMETRY_PREFIX))  # one listing per tick of each prefix
    archived = list(lake.list(ARCHIVE_PREFIX))  # archived files still count for their day's version
    cursor = TelemetryCursor.from_json(context.cursor)
    materialized = context.instance.get_materialized_partitions(SAMPLES_KEY) if cursor is None else set()
    now = datetime.now(UTC)
    failed, busy = failed_days(context.instance, cursor.days) if cursor else (set(), set())
    due, retries = due_retries(failed, busy, cursor.retries if cursor else {}, now, SENSOR_INTERVAL_S)
    if due:
        context.log.info(f"retrying {len(due)} failed day(s) without a file change: {', '.join(sorted(due))}")
    requests, next_cursor = evaluate(objects, cursor, materialized, now, context.log, archived, due)
    next_cursor.retries = retries
    if requests:
        context.log.info(f"{len(objects)} object(s) listed; requesting {len(requests)} run(s)")
    return dg.SensorResult(run_requests=requests, cursor=next_cursor.to_json())
