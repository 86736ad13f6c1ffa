"""Transient faults recover by themselves, permanent ones fail at once with one clear message.

Every fault is injected into a real service: PostgreSQL (a backend terminated mid-statement, a database or role
that does not exist, a missing table) and moto's S3 over HTTP behind a proxy that answers 503 SlowDown or
403 AccessDenied. Nothing is mocked; boto3 and psycopg2 are not patched.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable

import dagster as dg
import pandas as pd
import psycopg2
import pytest

from medrobotics_dagster import faults
from medrobotics_dagster.defs.staging import operational_extracts
from medrobotics_dagster.faults import Fault, classify, fail_fast_on_permanent_faults
from medrobotics_dagster.io_managers.warehouse_io_manager import WarehouseIOManager
from medrobotics_dagster.resources.databases import SourceDatabase, Warehouse
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.resources.pseudonymizer import Pseudonymizer
from medrobotics_dagster.synthetic.source_schema import apply_schema
from medrobotics_dagster_tests.conftest import SERVER_URL
from medrobotics_dagster_tests.database import query
from medrobotics_dagster_tests.defs.operations.s3_fault_proxy import S3FaultProxy

FAST_RETRY = dg.RetryPolicy(max_retries=2, delay=0.2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
FACILITIES = [(f"FAC-{i:03d}", f"Hospital {i}", "America/New_York") for i in range(1, 6)]


def error_of(fn) -> BaseException:
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - the error is the result
        return exc
    raise AssertionError("expected an error")


def connect(url: str):
    return Warehouse(url=url).connection()


# ----------------------------------------------------------------------------- classification of real errors


def test_a_database_that_does_not_exist_is_permanent():
    url = SERVER_URL.rsplit("/", 1)[0] + f"/mr_missing_{uuid.uuid4().hex[:8]}"
    fault = classify(error_of(lambda: connect(url).__enter__()))
    assert fault == Fault("permanent", "database does not exist")


def test_a_role_that_does_not_exist_is_permanent():
    # trust auth accepts any password, so "bad credentials" here is a user the server does not know
    url = SERVER_URL.replace("postgres@", f"mr_nobody_{uuid.uuid4().hex[:6]}@", 1)
    assert classify(error_of(lambda: connect(url).__enter__())) == Fault("permanent", "role does not exist")


def test_a_missing_table_is_permanent(warehouse_url):
    fault = classify(error_of(lambda: Warehouse(url=warehouse_url).query("SELECT * FROM staging.no_such_table")))
    assert fault.permanent and "42P01" in fault.reason


def test_a_refused_connection_is_transient():
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fault = classify(error_of(lambda: connect(f"postgresql://postgres@127.0.0.1:{port}/postgres").__enter__()))
    assert fault.kind == "transient"


def allow_connections(url: str, allowed: bool) -> None:
    """ALTER DATABASE … ALLOW_CONNECTIONS, as an operator closes a database for maintenance."""
    conn = psycopg2.connect(SERVER_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" ALLOW_CONNECTIONS {str(allowed).lower()}')
    finally:
        conn.close()


def reopen_after_a_retry(
    instance: dg.DagsterInstance, url: str, run_ids: Callable[[], Iterable[str]], timeout: float
) -> threading.Thread:
    """Open the closed database again once one of the runs `run_ids()` names records a step up for retry (its first
    attempt has failed), or after `timeout` seconds; the watching thread, to join."""

    def watch():
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                retried = dg.DagsterEventType.STEP_UP_FOR_RETRY
                if any(instance.all_logs(run_id, of_type=retried) for run_id in run_ids()):
                    return
                time.sleep(0.2)
        finally:
            allow_connections(url, True)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_database_refusing_connections_for_maintenance_is_transient(make_database):
    url = make_database("closed")
    allow_connections(url, False)
    try:
        error = error_of(lambda: connect(url).__enter__())
    finally:
        allow_connections(url, True)
    assert "not currently accepting connections" in str(error)
    assert classify(error) == Fault("transient", "connection lost or refused")


@pytest.mark.parametrize(
    "url, reason",
    [
        (SERVER_URL.rsplit("/", 1)[0] + "/mr_no_such_database", "database does not exist"),
        (SERVER_URL.replace("postgres@", "mr_nobody@", 1), "role does not exist"),
        ("postgresql://postgres@no-such-host.invalid:5432/postgres", "host name does not resolve"),
    ],
)
def test_a_wrong_database_user_or_host_is_one_permanent_line_naming_the_setting(url, reason):
    error = error_of(lambda: connect(url).__enter__())
    fault = classify(error)
    assert fault == Fault("permanent", reason)
    message = faults.permanent_failure("load of staging.readings", error, fault).description
    assert message.startswith(
        f"load of staging.readings failed permanently ({reason}): MEDROBOTICS_WAREHOUSE_URL: cannot connect"
    )
    assert "\n" not in message


def terminate_when_waiting(database: str, found: list, timeout: float = 20.0) -> threading.Thread:
    """In the background: wait for our application's backend on `database` to block on a lock, then kill it."""

    def run():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = query(
                SERVER_URL,
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = 'medrobotics_dagster' "
                "AND wait_event_type = 'Lock'",
                (database,),
            )
            if rows:
                query(SERVER_URL, "SELECT pg_terminate_backend(%s)", (rows[0][0],))
                found.append(rows[0][0])
                return
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class HeldLock:
    """An ACCESS EXCLUSIVE lock on a table, held by another session until released."""

    def __init__(self, url: str, table: str):
        self.conn = psycopg2.connect(url)
        with self.conn.cursor() as cur:
            cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    def release(self):
        self.conn.rollback()
        self.conn.close()


def test_a_connection_terminated_mid_statement_is_transient(warehouse_url):
    Warehouse(url=warehouse_url).query("CREATE TABLE held (x int)")
    lock = HeldLock(warehouse_url, "held")
    killed: list = []
    watcher = terminate_when_waiting(warehouse_url.rsplit("/", 1)[1], killed)
    try:
        error = error_of(lambda: Warehouse(url=warehouse_url).query("SELECT count(*) FROM held"))
    finally:
        watcher.join()
        lock.release()
    assert killed
    assert classify(error).kind == "transient", error


def test_s3_throttling_and_server_errors_are_transient_access_denied_and_missing_buckets_are_permanent(
    s3_endpoint, s3_bucket, monkeypatch
):
    with S3FaultProxy(s3_endpoint) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
        # max_attempts=1: one retry by the client (botocore counts retries), so two faults reach the caller
        lake = Lake(url=f"s3://{s3_bucket}/lake", max_attempts=1)
        proxy.fail(2, 503, "SlowDown")
        slow = classify(error_of(lambda: list(lake.list("raw/"))))
        proxy.fail(2, 500, "InternalError")
        internal = classify(error_of(lambda: lake.get("raw/x.json")))
        proxy.fail(1, 403, "AccessDenied")  # never retried by the client
        denied = classify(error_of(lambda: list(Lake(url=f"s3://{s3_bucket}/lake", max_attempts=1).list("raw/"))))
        proxy.fail(0)
        missing_bucket = classify(
            error_of(lambda: list(Lake(url=f"s3://mr-no-such-{uuid.uuid4().hex[:8]}/x", max_attempts=1).list("raw/")))
        )
        missing_key = classify(error_of(lambda: lake.get("raw/none.json")))
    assert slow == Fault("transient", "S3 SlowDown (HTTP 503)")
    assert internal.kind == "transient"
    assert denied.permanent and "access denied" in denied.reason
    assert missing_bucket.permanent and "NoSuchBucket" in missing_bucket.reason
    assert missing_key.permanent


def test_dbt_failures_are_classified_from_run_results():
    failing_test = [("test.x.not_null_fact", "fail", "Got 3 results, configured to fail if != 0")]
    dropped = [
        ("model.x.dim_robots", "error", "Database Error in model dim_robots: server closed the connection unexpectedly")
    ]
    missing = [
        (
            "model.x.dim_robots",
            "error",
            'Database Error in model dim_robots: relation "staging.surgical_robots" does not exist',
        )
    ]
    assert faults.classify_dbt_failures(failing_test).permanent
    assert faults.classify_dbt_failures(dropped).kind == "transient"
    assert faults.classify_dbt_failures(missing).permanent


# ---------------------------------------------------------------------------- the real extract asset in a run


@pytest.fixture
def facilities_source(source_url) -> str:
    conn = psycopg2.connect(source_url)
    with conn, conn.cursor() as cur:
        apply_schema(conn)
        cur.executemany(
            "INSERT INTO facilities (facility_id, facility_name, time_zone) VALUES (%s, %s, %s)", FACILITIES
        )
    conn.close()
    return source_url


def facilities_extract(monkeypatch, retry_policy: dg.RetryPolicy = FAST_RETRY) -> dg.AssetsDefinition:
    """The production facilities extract, built with a short retry delay (the policy's shape is tested below)."""
    monkeypatch.setattr(operational_extracts, "EXTRACT_RETRY_POLICY", retry_policy)
    extract = next(e for e in operational_extracts.EXTRACTS if e.table == "facilities")
    return operational_extracts.build_extract_asset(extract)


def materialize_extract(
    asset, source_url: str, warehouse_url: str, tmp_path, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    warehouse = Warehouse(url=warehouse_url)
    lake = Lake(url=str(tmp_path / "lake"))
    return dg.materialize(
        [asset],
        resources={
            "source_db": SourceDatabase(url=source_url),
            "warehouse": warehouse,
            "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse, lake=lake),
            "pseudonymizer": Pseudonymizer(key="k" * 32),
        },
        instance=instance,
        raise_on_error=False,
    )


def attempts(result: dg.ExecuteInProcessResult) -> int:
    return 1 + sum(1 for e in result.all_events if e.event_type_value == "STEP_RESTARTED")


def step_failure_message(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert len(failures) == 1
    return failures[0].step_failure_data.error.message


def test_the_production_retry_policies_back_off_exponentially_with_jitter():
    from medrobotics_dagster.defs.telemetry.assets import TELEMETRY_RETRY_POLICY
    from medrobotics_dagster.defs.warehouse.dbt_assets import DBT_RETRY_POLICY

    for policy in (operational_extracts.EXTRACT_RETRY_POLICY, TELEMETRY_RETRY_POLICY, DBT_RETRY_POLICY):
        assert policy.max_retries >= 2 and policy.delay
        assert policy.backoff == dg.Backoff.EXPONENTIAL and policy.jitter == dg.Jitter.PLUS_MINUS
    for asset in operational_extracts.extract_assets:
        assert asset.op.retry_policy == operational_extracts.EXTRACT_RETRY_POLICY


def test_a_source_connection_dropped_mid_extract_is_retried_and_the_load_completes(
    facilities_source, warehouse_url, tmp_path, monkeypatch
):
    lock = HeldLock(facilities_source, "facilities")
    killed: list = []
    watcher = terminate_when_waiting(facilities_source.rsplit("/", 1)[1], killed)
    release = threading.Timer(0.5, lambda: watcher.join() or lock.release())
    release.start()
    try:
        result = materialize_extract(facilities_extract(monkeypatch), facilities_source, warehouse_url, tmp_path)
    finally:
        release.join()
    assert killed, "the extract never blocked on the lock"
    assert result.success
    assert attempts(result) == 2
    assert query(warehouse_url, "SELECT count(*) FROM staging.facilities") == [(len(FACILITIES),)]


def test_a_warehouse_connection_dropped_mid_load_is_retried_and_leaves_no_duplicates(
    facilities_source, warehouse_url, tmp_path, monkeypatch
):
    asset = facilities_extract(monkeypatch)
    assert materialize_extract(asset, facilities_source, warehouse_url, tmp_path).success
    lock = HeldLock(warehouse_url, "staging.facilities")
    killed: list = []
    watcher = terminate_when_waiting(warehouse_url.rsplit("/", 1)[1], killed)
    release = threading.Timer(0.5, lambda: watcher.join() or lock.release())
    release.start()
    try:
        result = materialize_extract(asset, facilities_source, warehouse_url, tmp_path)
    finally:
        release.join()
    assert killed and result.success and attempts(result) == 2
    assert query(warehouse_url, "SELECT count(*), count(DISTINCT facility_id) FROM staging.facilities") == [(5, 5)]


def test_a_source_database_that_does_not_exist_fails_at_once_with_one_message(warehouse_url, tmp_path, monkeypatch):
    missing = SERVER_URL.rsplit("/", 1)[0] + f"/mr_missing_{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    result = materialize_extract(
        facilities_extract(monkeypatch, dg.RetryPolicy(max_retries=3, delay=30)), missing, warehouse_url, tmp_path
    )
    assert not result.success
    assert attempts(result) == 1 and time.monotonic() - started < 25  # no 30 s retry delay was waited
    message = step_failure_message(result)
    assert "extract of source table facilities failed permanently (database does not exist)" in message
    assert "Not retried" in message


def test_a_missing_source_table_fails_at_once(source_url, warehouse_url, tmp_path, monkeypatch):
    result = materialize_extract(
        facilities_extract(monkeypatch, dg.RetryPolicy(max_retries=3, delay=30)), source_url, warehouse_url, tmp_path
    )
    assert not result.success and attempts(result) == 1
    assert 'relation "facilities" does not exist' in step_failure_message(result)


# ---------------------------------------------------------------------------------- S3 faults in a Dagster step


def lake_reader(retry_policy: dg.RetryPolicy):
    @dg.asset(retry_policy=retry_policy)
    def raw_listing(lake: Lake) -> int:
        with fail_fast_on_permanent_faults("listing raw/"):
            keys = [obj.key for obj in lake.list("raw/")]
            return sum(len(lake.get(key)) for key in keys)

    return raw_listing


@pytest.fixture
def s3_lake(s3_endpoint, s3_bucket):
    lake = Lake(url=f"s3://{s3_bucket}/lake")
    lake.put("raw/a.json", b"{}\n")
    return s3_bucket


def test_s3_slowdown_is_absorbed_by_the_client_and_then_by_the_step_retry(s3_endpoint, s3_lake, monkeypatch):
    with S3FaultProxy(s3_endpoint) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
        proxy.fail(1, 503, "SlowDown")  # one throttled request: botocore's own retry absorbs it
        result = dg.materialize(
            [lake_reader(FAST_RETRY)], resources={"lake": Lake(url=f"s3://{s3_lake}/lake", max_attempts=2)}
        )
        assert result.success and attempts(result) == 1 and proxy.plan.served == 1
        proxy.fail(
            3, 503, "SlowDown"
        )  # all three of the client's attempts (max_attempts=2 retries): the step's RetryPolicy takes over
        result = dg.materialize(
            [lake_reader(FAST_RETRY)], resources={"lake": Lake(url=f"s3://{s3_lake}/lake", max_attempts=2)}
        )
        assert result.success and attempts(result) == 2 and proxy.plan.served == 3


def test_s3_access_denied_fails_at_once_with_one_message(s3_endpoint, s3_lake, monkeypatch):
    with S3FaultProxy(s3_endpoint) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.url)
        proxy.fail(-1, 403, "AccessDenied")
        result = dg.materialize(
            [lake_reader(dg.RetryPolicy(max_retries=3, delay=30))],
            resources={"lake": Lake(url=f"s3://{s3_lake}/lake")},
            raise_on_error=False,
        )
    assert not result.success and attempts(result) == 1
    message = step_failure_message(result)
    assert "listing raw/ failed permanently (S3 AccessDenied (HTTP 403): access denied)" in message


def test_a_warehouse_closed_for_maintenance_is_retried_with_a_warning_and_the_load_completes(make_database, tmp_path):
    url = make_database("maintenance")
    manager = WarehouseIOManager(warehouse=Warehouse(url=url), lake=Lake(url=str(tmp_path / "lake")))

    @dg.asset(
        key=["staging", "readings"],
        io_manager_key="warehouse_io_manager",
        retry_policy=dg.RetryPolicy(max_retries=2, delay=0),
    )
    def readings(context) -> pd.DataFrame:
        allow_connections(url, context.retry_number > 0)  # closed during the first attempt's load, open again after
        return pd.DataFrame({"reading_id": ["r1", "r2"], "value": [1.0, 2.0]})

    instance = dg.DagsterInstance.ephemeral()
    try:
        result = dg.materialize(
            [readings], resources={"warehouse_io_manager": manager}, instance=instance, raise_on_error=False
        )
    finally:
        allow_connections(url, True)
    assert result.success
    assert [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING]
    assert any(
        m.startswith(
            "attempt 1 of 3 of staging/readings failed (transient fault, connection lost or refused): "
            "MEDROBOTICS_WAREHOUSE_URL"
        )
        and "not currently accepting connections" in m
        for m in warnings
    ), warnings
    assert query(url, "SELECT count(*) FROM staging.readings") == [(2,)]
