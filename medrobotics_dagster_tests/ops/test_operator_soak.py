"""An operator's afternoon, scripted: scenario steps dropped into a moto S3 lake, the file sensor ticked and each
run it requests executed, until it is quiet; then the fact compared exactly with the valid raw lines.

In-process (the sensor's evaluation and the runs, on one Dagster instance), not under `dagster dev`'s daemon:
it stops by itself and touches only loopback services. Prints its figures (files, lines, runs, seconds).
"""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from medrobotics_dagster.defs.staging.operational_extracts import extract_assets
from medrobotics_dagster.defs.telemetry.assets import telemetry_assets
from medrobotics_dagster.defs.telemetry.sensor import raw_telemetry_sensor, telemetry_job
from medrobotics_dagster_tests.database import query
from medrobotics_dagster_tests.defs.telemetry.telemetry_world import World, extract_procedures, resources, seed_source
from medrobotics_dagster_tests.defs.telemetry.test_telemetry_assets import lines

D15, D16, D17 = date(2024, 1, 15), date(2024, 1, 16), date(2024, 1, 17)
MAX_TICKS = 10  # a quiet sensor needs one tick after the runs; more means it never settles


@dataclass
class Lake:
    """The scenario's view of the raw files: what each key holds, and which of its lines are valid samples."""

    world: World
    valid: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # key -> {(procedure, timestamp)}
    files_written: int = 0

    def put(
        self, procedure: str, day: date, seconds=(), bad: int = 0, gz: bool = False, body: bytes | None = None
    ) -> str:
        good = lines(procedure, day, seconds)
        data = body if body is not None else b"\n".join(good + [b"{not json"] * bad) + b"\n"
        suffix = ".json.gz" if gz else ".json"
        key = f"raw/telemetry/procedure-{procedure}/{day:%Y%m%d}{suffix}"
        self.world.lake.put(key, gzip.compress(data) if gz else data)
        self.valid[key] = {(procedure, f"{day} {10 + s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}") for s in seconds}
        self.files_written += 1
        return key

    def reupload(self, key: str) -> None:
        self.world.lake.put(key, self.world.lake.get(key))
        self.files_written += 1

    def delete(self, key: str) -> None:
        self.world.lake.delete(key)
        self.valid.pop(key)

    def expected(self) -> list[tuple[str, str]]:
        return sorted(pair for pairs in self.valid.values() for pair in pairs)


class Operator:
    """The sensor ticked and its runs executed in order, on one instance, as the daemon would."""

    def __init__(self, world: World):
        defs = dg.Definitions(
            assets=[*extract_assets, *telemetry_assets],
            jobs=[telemetry_job],
            resources=resources(world.warehouse_url, world.lake_url, world.source_url),
        )
        self.job = defs.resolve_job_def(telemetry_job.name)
        self.instance = dg.DagsterInstance.ephemeral()
        self.lake = world.lake
        self.cursor: str | None = None
        self.runs: list[tuple[str, bool]] = []

    def settle(self) -> list[tuple[str, bool]]:
        """Tick and run until the sensor asks for nothing; the runs of this step (partition, success)."""
        done = []
        for _ in range(MAX_TICKS):
            context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor, resources={"lake": self.lake})
            result = raw_telemetry_sensor(context)
            self.cursor = result.cursor
            if not result.run_requests:
                self.runs += done
                return done
            for request in result.run_requests:
                run = self.job.execute_in_process(
                    instance=self.instance, partition_key=request.partition_key, tags=request.tags, raise_on_error=False
                )
                start = request.tags.get("dagster/asset_partition_range_start")
                label = (
                    f"{start}..{request.tags['dagster/asset_partition_range_end']}" if start else request.partition_key
                )
                done.append((label, run.success))
        raise AssertionError(f"the sensor never settled: {done}")


def fact(world: World) -> list[tuple[str, str]]:
    rows = query(
        world.warehouse_url,
        "SELECT procedure_id, to_char(sample_timestamp, 'YYYY-MM-DD HH24:MI:SS') "
        "FROM analytics.fact_procedure_telemetry ORDER BY 1, 2",
    )
    return [tuple(row) for row in rows]


def test_an_operators_scenarios_end_with_the_fact_equal_to_the_valid_raw_lines(source_url, warehouse_url, s3_bucket):
    seed_source(source_url)
    world = World(source_url, warehouse_url, f"s3://{s3_bucket}/lake")
    extract_procedures(world)
    raw, operator = Lake(world), Operator(world)
    started, timings = time.monotonic(), []

    def step(name: str, expect: list[tuple[str, bool]]) -> None:
        began = time.monotonic()
        assert operator.settle() == expect, name
        timings.append((name, round(time.monotonic() - began, 1)))

    raw.put("PROC-A", D15, range(20))
    raw.put("PROC-B", D15, range(10), gz=True)
    step("new files, one gzip", [("2024-01-15", True)])
    raw.put("PROC-OLD", D15, range(57, 60))  # started the day before: a late file for an old day
    step("late file", [("2024-01-15", True)])
    raw.put("PROC-D", D17, range(5))  # sorts after PROC-C, arrives first, in the same second
    raw.put("PROC-C", D16, range(7))
    step("same second, out of key order", [("2024-01-16..2024-01-17", True)])
    raw.put("PROC-A", D15, range(5, 26))  # overwritten with other samples
    step("overwritten file", [("2024-01-15", True)])
    raw.put("PROC-B", D16, body=b"")  # empty
    step("empty file", [("2024-01-16", True)])
    half_bad = raw.put("PROC-C", D17, range(2), bad=2)  # 2 of 9 lines that day rejected: over the 5 % budget
    step("half-bad file over the budget", [("2024-01-17", False)])
    raw.valid[half_bad] = set()  # blocked: the fact keeps the day's previous rows ...
    assert fact(world) == sorted(raw.expected()), "a blocked day keeps its previous rows"
    raw.delete(half_bad)  # ... until the bad file is removed, which heals the day by itself
    step("bad file deleted", [("2024-01-17", True)])
    raw.reupload("raw/telemetry/procedure-PROC-B/20240115.json.gz")
    step("identical bytes uploaded again", [])

    loaded = fact(world)
    assert loaded == raw.expected() and len(set(loaded)) == len(loaded)  # exact, no duplicate
    print(
        f"\nsoak: {raw.files_written} file writes, {len(raw.valid)} files now, {len(loaded)} valid lines = fact rows, "
        f"{len(operator.runs)} runs ({sum(not ok for _, ok in operator.runs)} failed as intended), "
        f"{time.monotonic() - started:.1f} s; file->fact per step: {timings}"
    )
