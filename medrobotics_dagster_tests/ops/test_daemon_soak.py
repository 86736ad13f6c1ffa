"""The operator's scenarios (ops/scenarios/*.json) played under `dagster dev` as the README launches it: the
webserver, the daemon and its file sensor on a moto S3 lake, the platform's own instance configuration. Each
step writes, overwrites or deletes raw files and injects faults; the live sensor and its runs do the rest.
After every step: the sensor's runs and their outcomes exactly, their audit rows exactly, the fact equal to
the valid raw lines of the days that loaded (a blocked or failed day keeps its previous rows), the quarantine
equal to the bad lines; at the end every day is materialized in Dagster and every failed run was alerted.
Prints its figures (files, lines, runs, seconds from a step's last file to its last run's end).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest
from dagster._core.scheduler.instigation import InstigatorType, TickStatus

from medrobotics_dagster.defs.telemetry.assets import FACT_KEY
from medrobotics_dagster.defs.telemetry.recovery import RETRIED_DAYS_TAG
from medrobotics_dagster.local_instance import prepare_home
from medrobotics_dagster.partitions import daily_partitions
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster_tests.dagster_dev import LOCATION, DagsterDev
from medrobotics_dagster_tests.database import execute, query
from medrobotics_dagster_tests.defs.telemetry.telemetry_world import resources, seed_source
from medrobotics_dagster_tests.ops.scenario_player import RawLake, all_procedures, expected_audit, load_scenarios
from medrobotics_dagster_tests.test_faults import allow_connections, reopen_after_a_retry

pytestmark = pytest.mark.long

INTERVAL_S = 5  # the sensor's tick here (MEDROBOTICS_FILE_SENSOR_INTERVAL_S); the daemon loops every 5 s at best
STEP_TIMEOUT_S = 300
EXTRACTED = ("2024-01-13", "2024-01-28")  # the procedures extracted before the daemon starts
JOB = "telemetry_files_job"
SENSOR = "raw_telemetry_sensor"
STOP_SENSOR = """
mutation Stop($origin: String!, $selector: String!) {
  stopSensor(jobOriginId: $origin, jobSelectorId: $selector) { __typename ... on PythonError { message } }
}
"""
START_SENSOR = """
mutation Start($selector: SensorSelector!) {
  startSensor(sensorSelector: $selector) { __typename ... on PythonError { message } }
}
"""


class Webhook:
    """A local HTTP endpoint that keeps the JSON bodies the alert sensor POSTs."""

    def __init__(self):
        self.bodies: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                owner.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def platform(source_url, warehouse_url, s3_bucket, dagster_storage, tmp_path):
    scenarios = load_scenarios()
    seed_source(source_url, all_procedures(scenarios))
    lake_url = f"s3://{s3_bucket}/lake"
    from medrobotics_dagster.defs.staging.operational_extracts import extract_assets, staging_key

    by_key = {a.key: a for a in extract_assets}
    extracts = [by_key[staging_key("facilities")], by_key[staging_key("surgical_procedures")]]
    res = resources(warehouse_url, lake_url, source_url)
    for asset, tags in ((extracts[0], None), (extracts[1], range_tags(*EXTRACTED))):
        assert dg.materialize([asset], resources=res, tags=tags).success
    home = prepare_home(tmp_path / "dagster_home")
    webhook = Webhook()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "MEDROBOTICS_HOME": str(tmp_path / ".medrobotics"),
        "MEDROBOTICS_SOURCE_DB_URL": source_url,
        "MEDROBOTICS_WAREHOUSE_URL": warehouse_url,
        "MEDROBOTICS_LAKE_URL": lake_url,
        "MEDROBOTICS_FILE_SENSOR_INTERVAL_S": str(INTERVAL_S),
        "MEDROBOTICS_ALERT_WEBHOOK_URL": webhook.url,
    }
    env.pop("MEDROBOTICS_ENV", None)
    server = DagsterDev(env, tmp_path / "dagster_dev.log")
    try:
        from dagster_graphql import DagsterGraphQLClient

        client = DagsterGraphQLClient("127.0.0.1", port_number=server.port, timeout=60)
        server.wait_until_serving(client)
        yield scenarios, Lake(url=lake_url), dg.DagsterInstance.from_config(str(home)), server, webhook, client
    finally:
        server.stop()
        webhook.server.shutdown()


def range_tags(first: str, last: str) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def label(record) -> str:
    tags = record.dagster_run.tags
    start = tags.get("dagster/asset_partition_range_start")
    return f"{start}..{tags['dagster/asset_partition_range_end']}" if start else tags["dagster/partition"]


class Player:
    """Applies a step's actions while the file sensor is stopped (as an operator stops it in the UI), so that a
    step's files arrive together, then starts it and waits for it to settle."""

    def __init__(self, instance: dg.DagsterInstance, raw: RawLake, urls: dict[str, str], server: DagsterDev, client):
        self.instance, self.raw, self.urls, self.server, self.client = instance, raw, urls, server, client

    def sensor_state(self):
        states = self.instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
        return next((s for s in states if s.instigator_name == SENSOR), None)

    def latest_tick(self):
        state = self.sensor_state()
        ticks = self.instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1) if state else []
        return ticks[0] if ticks else None

    def stop_sensor(self) -> None:
        """Stop the sensor once it has ticked, and wait for a tick in progress to end."""
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while self.latest_tick() is None or self.latest_tick().status == TickStatus.STARTED:
            assert time.monotonic() < deadline, self.server.log_tail()
            time.sleep(0.2)
        state = self.sensor_state()
        result = self.client._execute(
            STOP_SENSOR, {"origin": state.instigator_origin_id, "selector": state.selector_id}
        )
        assert result["stopSensor"]["__typename"] == "StopSensorMutationResult", result
        while self.latest_tick().status == TickStatus.STARTED:
            time.sleep(0.2)

    def start_sensor(self) -> None:
        selector = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", "sensorName": SENSOR}
        result = self.client._execute(START_SENSOR, {"selector": selector})
        assert result["startSensor"]["__typename"] == "Sensor", result

    def apply(self, action: dict, since: datetime) -> threading.Thread | None:
        ((kind, spec),) = action.items()
        if kind == "put":
            self.raw.put(
                spec["procedure"],
                spec["day"],
                spec.get("seconds", (0, 0)),
                spec.get("bad", 0),
                spec.get("gzip", False),
                spec.get("empty", False),
            )
        elif kind == "put_raw":
            self.raw.put_raw(spec["key"], spec["text"])
        elif kind == "reupload":
            self.raw.reupload(spec["procedure"], spec["day"], spec.get("gzip", False))
        elif kind == "delete":
            self.raw.delete(spec["procedure"], spec["day"], spec.get("gzip", False))
        elif kind == "bulk":
            self.raw.bulk(spec)
        elif kind == "sql":
            execute(self.urls[spec["database"]], spec["statement"])
        elif kind == "refuse_connections":
            assert spec["until"] == "first retry", spec
            return self._closed_until_a_retry(self.urls[spec["database"]], since)
        else:
            raise AssertionError(f"unknown action {kind!r}")
        return None

    def _closed_until_a_retry(self, url: str, since: datetime) -> threading.Thread:
        allow_connections(url, False)
        return reopen_after_a_retry(
            self.instance, url, lambda: [r.dagster_run.run_id for r in self.runs(since)], STEP_TIMEOUT_S
        )

    def runs(self, since: datetime) -> list:
        records = self.instance.get_run_records(
            dg.RunsFilter(job_name=JOB, created_after=since, tags={"medrobotics/trigger": "raw_telemetry"})
        )
        return sorted(records, key=lambda r: r.create_timestamp)

    def quiet_tick_after(self, moment: datetime) -> bool:
        """A tick of the file sensor that started after `moment`, ended, and requested nothing."""
        state = self.sensor_state()
        if state is None:  # no tick yet
            return False
        ticks = self.instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=5)
        return any(
            t.timestamp > moment.timestamp() and t.status in (TickStatus.SKIPPED, TickStatus.SUCCESS) and not t.run_ids
            for t in ticks
        )

    def settle(self, since: datetime, expected: int) -> list:
        """The step's runs once they have all ended and a later sensor tick asked for nothing more."""
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while time.monotonic() < deadline:
            records = self.runs(since)
            if len(records) >= expected and all(r.dagster_run.is_finished for r in records):
                ended = max((r.end_time for r in records), default=since.timestamp())
                if self.quiet_tick_after(datetime.fromtimestamp(ended, UTC)):
                    return self.runs(since)
            time.sleep(0.5)
        raise TimeoutError(
            f"the sensor did not settle: {[(label(r), r.dagster_run.status) for r in self.runs(since)]}"
            f"\n{self.server.log_tail()}"
        )


def fault_retries_beyond(step: dict, records: list, what: str) -> list:
    """The step's runs beyond those it expects, after checking they are the only ones allowed: on a loaded machine
    the daemon's ticks drift, and a day that failed on a fault (its fact load 'failed', not 'blocked') may be tried
    again before the sensor goes quiet; such a recovery run is tagged, fails again and is left out of the audit."""
    outcome = {r.dagster_run.run_id: (label(r), r.dagster_run.status.value) for r in records}
    surplus = Counter(outcome.values()) - Counter(tuple(run) for run in step["runs"])
    assert Counter(outcome.values()) - surplus == Counter(tuple(run) for run in step["runs"]), (what, outcome)
    faulty = {day for asset, day, status in step["audit"] if (asset, status) == (FACT_KEY.to_user_string(), "failed")}
    beyond = []
    for (day, status), count in surplus.items():
        retries = [r for r in records if outcome[r.dagster_run.run_id] == (day, status)]
        retries = [r for r in retries if r.dagster_run.tags.get(RETRIED_DAYS_TAG) == day]
        assert status == "FAILURE" and day in faulty and len(retries) >= count, (what, sorted(outcome.values()))
        beyond += retries[-count:]
    return beyond


def audit_rows(warehouse_url: str, run_ids: list[str]) -> Counter:
    rows = query(
        warehouse_url,
        "SELECT asset_key, to_char(partition_start, 'YYYY-MM-DD'), status FROM audit.etl_audit_log "
        "WHERE run_id = ANY(%s)",
        (run_ids,),
    )
    return Counter(tuple(row) for row in rows)


def fact_rows(warehouse_url: str) -> list[tuple[str, str]] | None:
    """The fact's (procedure, sample time) rows; None while the table is renamed away."""
    if query(warehouse_url, "SELECT to_regclass('analytics.fact_procedure_telemetry')") == [(None,)]:
        return None
    rows = query(
        warehouse_url,
        "SELECT procedure_id, to_char(sample_timestamp, 'YYYY-MM-DD HH24:MI:SS') "
        "FROM analytics.fact_procedure_telemetry ORDER BY 1, 2",
    )
    return [tuple(row) for row in rows]


def quarantine_by_day(warehouse_url: str) -> dict[str, int]:
    rows = query(
        warehouse_url,
        "SELECT to_char(partition_start, 'YYYY-MM-DD'), count(*) FROM analytics.telemetry_quarantine GROUP BY 1",
    )
    return dict(rows)


def warnings_of(instance: dg.DagsterInstance, run_ids: list[str]) -> list[str]:
    return [e.user_message for r in run_ids for e in instance.all_logs(r) if e.level == logging.WARNING]


def test_the_operators_scenarios_under_the_daemon_end_with_the_fact_equal_to_the_valid_raw_lines(
    platform, source_url, warehouse_url
):
    scenarios, lake, instance, server, webhook, client = platform
    raw = RawLake(lake)
    player = Player(instance, raw, {"source": source_url, "warehouse": warehouse_url}, server, client)
    loaded: dict[str, set] = {}  # day -> the valid lines its last successful fact load held
    quarantined: dict[str, int] = {}
    failed_runs, timings, started = [], [], time.monotonic()
    for scenario in scenarios:
        for step in scenario.steps:
            what = f"{scenario.name}: {step['name']}"
            player.stop_sensor()
            since = datetime.now(UTC)
            watchers = [w for w in (player.apply(a, since) for a in step["do"]) if w is not None]
            last_write = time.time()
            player.start_sensor()
            records = player.settle(since, len(step["runs"]))
            for watcher in watchers:
                watcher.join()
            timings.append((step["name"], round(max(r.end_time for r in records) - last_write, 1)))
            run_ids = [r.dagster_run.run_id for r in records if r not in fault_retries_beyond(step, records, what)]
            audit = audit_rows(warehouse_url, run_ids)
            assert audit == expected_audit(step["audit"]), what
            messages = warnings_of(instance, run_ids)
            for text in step.get("warnings", []):
                assert any(text in m for m in messages), (what, text, messages)
            valid, bad = raw.valid_by_day(), raw.bad_by_day()
            for asset, day, status in audit:
                if (asset, status) == ("warehouse/fact_procedure_telemetry", "succeeded"):
                    loaded[day] = valid.get(day, set())
                if (asset, status) == ("warehouse/telemetry_quarantine", "succeeded"):
                    quarantined[day] = bad.get(day, 0)
            rows = fact_rows(warehouse_url)
            if rows is not None:  # a step that renames the fact away checks its runs and audit rows only
                assert len(rows) == len(set(rows)), f"{what}: duplicate fact rows"
                assert rows == sorted(p for pairs in loaded.values() for p in pairs), what
            assert quarantine_by_day(warehouse_url) == {d: n for d, n in quarantined.items() if n}, what
            failed_runs += [r.dagster_run.run_id for r in records if r.dagster_run.status.value == "FAILURE"]

    # the end state: the fact is exactly the valid raw lines, every day is materialized, every failure alerted
    valid = raw.valid_by_day()
    rows = fact_rows(warehouse_url)
    assert rows == sorted(p for pairs in valid.values() for p in pairs) and len(rows) == len(set(rows))
    statuses = instance.get_status_by_partition(FACT_KEY, sorted(loaded), daily_partitions)
    assert set(statuses.values()) == {dg.AssetPartitionStatus.MATERIALIZED}, statuses
    deadline = time.monotonic() + 90  # the alert sensor ticks every 30 s
    while {b["run_id"] for b in webhook.bodies} < set(failed_runs) and time.monotonic() < deadline:
        time.sleep(1)
    alerted = {b["run_id"]: b for b in webhook.bodies}
    assert set(alerted) == set(failed_runs), alerted
    assert all(
        b["job_name"] == JOB and b["partition"] and (b["failed_steps"] or b["failed_checks"]) for b in alerted.values()
    )
    runs = player.runs(datetime.fromtimestamp(0, UTC))
    print(
        f"\ndaemon soak: {raw.writes} file writes ({raw.lines_written} lines), {len(raw.valid)} files now, "
        f"{len(rows)} valid lines = fact rows, {len(runs)} runs ({len(failed_runs)} failed as intended, alerted), "
        f"{time.monotonic() - started:.0f} s; seconds from a step's last write to its last run's end: {timings}"
    )
