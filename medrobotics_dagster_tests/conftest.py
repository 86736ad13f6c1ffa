"""Fixtures shared by the suite: real PostgreSQL databases and a real S3 API over HTTP (moto server)."""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg2
import pytest

from medrobotics_dagster.acknowledged_warnings import acknowledged_patterns

SERVER_URL = os.environ.get("MEDROBOTICS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
# The suite's worlds are the fixed 2023-01-01 .. 2024-12-31 history of `generate()`: partitions start with them.
os.environ.setdefault("MEDROBOTICS_HISTORY_START", "2023-01-01")
# Variables this suite sets for each test process unless the developer set them. pytest-xdist's workers inherit the
# controller's environment: a value the controller set is replaced, or all workers would share one dbt target.
SET_PER_PROCESS = "MEDROBOTICS_TESTS_SET_PER_PROCESS"


def _per_process(name: str, value: Callable[[], str]) -> None:
    ours = os.environ.get(SET_PER_PROCESS, "").split(",")
    if name not in os.environ or name in ours:
        os.environ[name] = value()
        os.environ[SET_PER_PROCESS] = ",".join(sorted({*ours, name} - {""}))


_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# Local state of tests that set no home of their own: never the repository's .medrobotics/.
_per_process("MEDROBOTICS_HOME", lambda: tempfile.mkdtemp(prefix=f"medrobotics-tests-{_WORKER}-"))
# dbt's target folder of this test process: its manifest and parse states are its own (two processes sharing one
# re-parsed the whole project each time the other had parsed for its warehouse), and sql/target is left alone.
_per_process("DBT_TARGET_PATH", lambda: f"target/tests-{_WORKER}")


def _admin(sql: str) -> None:
    conn = psycopg2.connect(SERVER_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@contextmanager
def _databases() -> Iterator[Callable[[str], str]]:
    """A maker of uniquely named databases on the local server; all are dropped when the block ends."""
    created: list[str] = []

    def make(purpose: str = "db") -> str:
        name = f"mr_test_{purpose}_{uuid.uuid4().hex[:10]}"
        _admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        return SERVER_URL.rsplit("/", 1)[0] + "/" + name

    try:
        yield make
    finally:
        for name in created:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def make_database() -> Iterator[Callable[[str], str]]:
    """Create uniquely named databases on the local server; all are dropped when the test ends."""
    with _databases() as make:
        yield make


@pytest.fixture(scope="module")
def make_module_database() -> Iterator[Callable[[str], str]]:
    """Databases shared by the tests of one module (a world built once and read by several); dropped at its end."""
    with _databases() as make:
        yield make


@pytest.fixture
def dagster_storage(make_database, monkeypatch) -> str:
    """A fresh, empty Dagster instance storage for local instances (MEDROBOTICS_DAGSTER_STORAGE_URL)."""
    url = make_database("dagster")
    monkeypatch.setenv("MEDROBOTICS_DAGSTER_STORAGE_URL", url)
    return url


@pytest.fixture
def source_url(make_database) -> str:
    return make_database("source")


# One warehouse name per test process, re-created empty for each test: dbt's connection profile holds the database
# name, and dbt parses the whole project again (5 to 7 s) for a profile it has no parse state of.
WAREHOUSE_DB = f"mr_test_warehouse_{os.getpid()}"


@pytest.fixture
def warehouse_url() -> Iterator[str]:
    """A new, empty warehouse database for the test, under its process's one warehouse name; dropped at its end."""
    _admin(f'DROP DATABASE IF EXISTS "{WAREHOUSE_DB}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{WAREHOUSE_DB}"')
    yield SERVER_URL.rsplit("/", 1)[0] + "/" + WAREHOUSE_DB
    _admin(f'DROP DATABASE IF EXISTS "{WAREHOUSE_DB}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on loopback; boto3 reaches it through AWS_ENDPOINT_URL_S3 like any S3-compatible store."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {
        k: os.environ.get(k)
        for k in ("AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    }
    os.environ.update(
        AWS_ENDPOINT_URL_S3=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    yield endpoint
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def s3_bucket(s3_endpoint) -> str:
    """A fresh bucket. moto ignores the conditions of the lake's deny-unencrypted bucket policy (it would deny
    every put), so encryption is proven by reading each object's ServerSideEncryption back instead."""
    import boto3

    name = f"mr-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def medrobotics_home(tmp_path, monkeypatch):
    """An isolated MEDROBOTICS_HOME with no URLs configured (local mode defaults)."""
    home = tmp_path / ".medrobotics"
    monkeypatch.setenv("MEDROBOTICS_HOME", str(home))
    for var in (
        "MEDROBOTICS_ENV",
        "MEDROBOTICS_SOURCE_DB_URL",
        "MEDROBOTICS_WAREHOUSE_URL",
        "MEDROBOTICS_LAKE_URL",
        "MEDROBOTICS_DAGSTER_STORAGE_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    return home


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "long: a module of a minute or more of this machine; started first, so parallel workers end together"
    )
    # pytest restores the warning filters after collecting, which drops the package's own: the same again here.
    for pattern in acknowledged_patterns():
        config.addinivalue_line("filterwarnings", f"ignore:{pattern}")
    # Deprecated calls inside Dagster's and dagster-dbt's own code (pinned releases), not ours: the same call of
    # ours, attributed to our module, still warns.
    for line in (
        r"ignore:InitResourceContext\.dagster_run is deprecated:DeprecationWarning:dagster\._core",
        r"ignore:AssetExecutionContext\.op is deprecated:DeprecationWarning:dagster_dbt\.",
        r"ignore:Function `JobDefinition\.run_request_for_partition` is deprecated:DeprecationWarning:dagster\._core",
        r"ignore:sqlglotrs is deprecated:DeprecationWarning:sqlglotrs",
        r"ignore:Using variable_values and operation_name arguments:DeprecationWarning:gql\.",
    ):
        config.addinivalue_line("filterwarnings", line)


def pytest_unconfigure(config):
    """The warm dbt server the tests' dbt steps started stops with the test run (in pytest-xdist's controller)."""
    if not hasattr(config, "workerinput"):
        from medrobotics_dagster.defs.warehouse.dbt_fork_server import socket_path, stop_server

        stop_server(socket_path())


def pytest_collection_modifyitems(config, items):
    """Long modules first (a stable sort: each module keeps its order)."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
