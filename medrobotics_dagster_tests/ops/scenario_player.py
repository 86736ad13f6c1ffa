"""Scenario files (ops/scenarios/*.json) played against a live file sensor: what each step does to the S3 lake,
the source and the warehouse, and what it must leave behind.

A scenario file:

    {"description": "...",
     "procedures": {"PROC-E": ["FAC-NY", "2024-01-26T09:00:00"]},      # seeded into the source (optional)
     "steps": [{"name": "...",
                "do": [<action>, ...],
                "runs": [["2024-01-15..2024-01-17", "SUCCESS"]],          # the sensor's runs, exactly
                "audit": [["*", "2024-01-15..2024-01-17", "succeeded"]],  # their audit rows, exactly
                "warnings": ["..."]}]}                                    # text in their WARNING records

Actions: `put` {procedure, day, seconds: [first, stop), bad: n garbage lines, gzip, empty}, `put_raw` {key, text},
`reupload` and `delete` {procedure, day, gzip}, `bulk` {days: "first..last", per_day, seconds} (files of
procedures BULK-<day>-<n>, seeded into the source), `sql` {database: source | warehouse, statement},
`refuse_connections` {database, until: "first retry"} (ALLOW_CONNECTIONS false until a step is up for retry).
In `audit`, "*" stands for the four assets a telemetry run loads and "a..b" for every day from a to b.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from medrobotics_dagster_tests.defs.telemetry.telemetry_world import PROCEDURES
from medrobotics_dagster_tests.defs.telemetry.test_telemetry_assets import lines

SCENARIOS = Path(__file__).parent / "scenarios"
RUN_ASSETS = (
    "staging/surgical_procedures",
    "lake/telemetry_samples",
    "warehouse/telemetry_quarantine",
    "warehouse/fact_procedure_telemetry",
)


@dataclass
class Scenario:
    name: str
    description: str
    procedures: dict[str, tuple[str, datetime]]
    steps: list[dict]


def load_scenarios(folder: Path = SCENARIOS) -> list[Scenario]:
    """Every scenario file of the folder, in name order."""
    scenarios = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        procedures = {
            pid: (fac, datetime.fromisoformat(start)) for pid, (fac, start) in data.get("procedures", {}).items()
        }
        scenarios.append(Scenario(path.stem, data["description"], procedures, data["steps"]))
    return scenarios


def days_of(text: str) -> list[str]:
    """'2024-01-15' or '2024-01-15..2024-01-17' as the days it names."""
    first, _, last = text.partition("..")
    start, end = date.fromisoformat(first), date.fromisoformat(last or first)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def bulk_procedures(action: dict) -> dict[str, tuple[str, datetime]]:
    """The procedures a `bulk` action writes files for: per_day of them on each day, starting at 09:00 UTC."""
    out = {}
    for day in days_of(action["days"]):
        for n in range(action["per_day"]):
            out[f"BULK-{day.replace('-', '')}-{n:02d}"] = ("FAC-NY", datetime.fromisoformat(f"{day}T09:00:00"))
    return out


def all_procedures(scenarios: list[Scenario]) -> dict[str, tuple[str, datetime]]:
    """What the source must hold for every scenario: the base procedures, the declared ones, the bulk ones."""
    out = dict(PROCEDURES)
    for scenario in scenarios:
        out.update(scenario.procedures)
        for step in scenario.steps:
            for action in step["do"]:
                if "bulk" in action:
                    out.update(bulk_procedures(action["bulk"]))
    return out


def expected_audit(rows: list[list[str]]) -> Counter:
    """The audit rows an expectation names, as (asset, day, status) counts."""
    out: Counter = Counter()
    for asset, days, status in rows:
        for a in RUN_ASSETS if asset == "*" else (asset,):
            for day in days_of(days):
                out[(a, day, status)] += 1
    return out


@dataclass
class RawLake:
    """The raw files as the scenarios wrote them: per key, its valid samples, its bad lines and its day."""

    lake: object  # medrobotics_dagster.resources.lake.Lake
    valid: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    bad: dict[str, int] = field(default_factory=dict)
    writes: int = 0
    lines_written: int = 0

    @staticmethod
    def key(procedure: str, day: str, gz: bool = False) -> str:
        return f"raw/telemetry/procedure-{procedure}/{day.replace('-', '')}.json" + (".gz" if gz else "")

    def put(self, procedure: str, day: str, seconds=(0, 0), bad: int = 0, gzip_: bool = False, empty=False) -> None:
        first = date.fromisoformat(day)
        good = [] if empty else lines(procedure, first, range(*seconds))
        body = b"" if empty else b"\n".join(good + [b"{not json"] * bad) + b"\n"
        key = self.key(procedure, day, gzip_)
        self.lake.put(key, gzip.compress(body) if gzip_ else body)
        stamps = [] if empty else range(*seconds)
        self.valid[key] = {(procedure, f"{day} {10 + s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}") for s in stamps}
        self.bad[key] = bad
        self.writes += 1
        self.lines_written += len(good) + bad

    def put_raw(self, key: str, text: str) -> None:
        self.lake.put(key, text.encode())
        self.writes += 1

    def reupload(self, procedure: str, day: str, gzip_: bool = False) -> None:
        key = self.key(procedure, day, gzip_)
        self.lake.put(key, self.lake.get(key))
        self.writes += 1

    def delete(self, procedure: str, day: str, gzip_: bool = False) -> None:
        key = self.key(procedure, day, gzip_)
        self.lake.delete(key)
        self.valid.pop(key)
        self.bad.pop(key)

    def bulk(self, action: dict) -> None:
        for procedure, (_, start) in bulk_procedures(action).items():
            self.put(procedure, start.date().isoformat(), action["seconds"])

    def day_of(self, key: str) -> str:
        stem = key.rsplit("/", 1)[1][:8]
        return f"{stem[:4]}-{stem[4:6]}-{stem[6:8]}"

    def valid_by_day(self) -> dict[str, set[tuple[str, str]]]:
        out: dict[str, set[tuple[str, str]]] = {}
        for key, pairs in self.valid.items():
            out.setdefault(self.day_of(key), set()).update(pairs)
        return out

    def bad_by_day(self) -> dict[str, int]:
        out: Counter = Counter()
        for key, n in self.bad.items():
            out[self.day_of(key)] += n
        return {day: n for day, n in out.items() if n}
