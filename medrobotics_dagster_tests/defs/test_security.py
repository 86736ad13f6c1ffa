"""Security end to end, on one platform configured the way a careful operator does: a password in every database
URL, a pseudonymization key, the platform connecting as a loader role that owns the warehouse schemas, and an
analyst role that reads the views and nothing else (real roles on a real server). No clear patient id reaches the
warehouse or the lake, and neither the password nor the key appears in any event of any run, in dbt's artefacts or
in the lake."""

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from dagster._serdes import serialize_value

from medrobotics_dagster_tests.conftest import SERVER_URL, _admin
from medrobotics_dagster_tests.database import query

WAREHOUSE_SCHEMAS = ("staging", "snapshots", "intermediate", "analytics", "audit")
SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
pytestmark = pytest.mark.long
WORLD = (date(2024, 1, 1), date(2024, 2, 29))  # two months: every path a secret could take, not two years of days


@dataclass(frozen=True)
class SecuredPlatform:
    """A world built with a password in every database URL, a pseudonymization key, the platform connecting to the
    warehouse as a loader role and an analyst role for the views. URLs here are the administrator's."""

    source_url: str
    warehouse_url: str
    lake_dir: Path
    instance: dg.DagsterInstance
    started: float
    password: str
    key: str
    loader: str
    analyst: str


def as_role(url: str, role: str, password: str = "") -> str:
    """The URL of the same database for another role (the server trusts local connections: a password is ignored)."""
    return url.replace("postgres@", f"{role}:{password}@" if password else f"{role}@")


@pytest.fixture(scope="module")
def secured_platform(tmp_path_factory) -> Iterator[SecuredPlatform]:
    """Built once for the module (about a minute of the suite): its tests only read it."""
    from medrobotics_dagster.materialize import materialize_everything
    from medrobotics_dagster.resources.databases import SourceDatabase
    from medrobotics_dagster.resources.lake import Lake
    from medrobotics_dagster.staleness import partition_range, procedure_days
    from medrobotics_dagster.synthetic.generator import generate

    tag = uuid.uuid4().hex[:8]
    password, key = f"Pw{uuid.uuid4().hex}", f"Key{uuid.uuid4().hex}{uuid.uuid4().hex}"
    loader, analyst = f"mr_loader_{tag}", f"mr_analyst_{tag}"
    source_db, warehouse_db = f"mr_test_secured_src_{tag}", f"mr_test_secured_wh_{tag}"
    for role in (loader, analyst):
        _admin(f'CREATE ROLE "{role}" LOGIN')
    for name in (source_db, warehouse_db):
        _admin(f'CREATE DATABASE "{name}"')
    _admin(f'GRANT CREATE ON DATABASE "{warehouse_db}" TO "{loader}"')
    base = SERVER_URL.rsplit("/", 1)[0]
    source_url, warehouse_url = f"{base}/{source_db}", f"{base}/{warehouse_db}"
    lake_dir = tmp_path_factory.mktemp("secured_lake")
    patch = pytest.MonkeyPatch()
    patch.setenv("MEDROBOTICS_SOURCE_DB_URL", as_role(source_url, "postgres", password))
    patch.setenv("MEDROBOTICS_WAREHOUSE_URL", as_role(warehouse_url, loader, password))
    patch.setenv("MEDROBOTICS_LAKE_URL", str(lake_dir))
    patch.setenv("MEDROBOTICS_PATIENT_ID_KEY", key)
    patch.setenv("MEDROBOTICS_ANALYST_ROLE", analyst)
    started = time.time()
    try:
        generate(source_url, Lake(url=str(lake_dir)), scale=0.02, seed=21, start=WORLD[0], end=WORLD[1])
        from medrobotics_dagster.definitions import defs

        instance = dg.DagsterInstance.ephemeral()
        materialize_everything(defs, instance, partition_range(procedure_days(SourceDatabase())))
        patch.undo()
        yield SecuredPlatform(source_url, warehouse_url, lake_dir, instance, started, password, key, loader, analyst)
    finally:
        patch.undo()
        for name in (source_db, warehouse_db):
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in (loader, analyst):
            _admin(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def warehouse(secured_platform):
    """The platform's warehouse URL (as the administrator), its loader role and its analyst role."""
    return secured_platform.warehouse_url, secured_platform.loader, secured_platform.analyst


@pytest.fixture
def platform(secured_platform):
    p = secured_platform
    return p.source_url, p.warehouse_url, p.lake_dir, p.instance, p.started


def analyst_query(url: str, sql: str):
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def test_the_loader_owns_every_warehouse_schema(warehouse):
    url, loader, _ = warehouse
    owners = dict(
        query(
            url,
            "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = ANY(%s)",
            (list(WAREHOUSE_SCHEMAS),),
        )
    )
    assert owners == {schema: loader for schema in WAREHOUSE_SCHEMAS}


def test_the_analyst_reads_every_view(warehouse):
    url, _, analyst = warehouse
    views = [
        row[0]
        for row in query(
            url,
            "SELECT table_name "
            "FROM information_schema.views WHERE table_schema = 'analytics' AND table_name LIKE 'vw\\_%%'",
        )
    ]
    assert len(views) == 11
    for view in views:
        analyst_query(as_role(url, analyst), f'SELECT count(*) FROM analytics."{view}"')


@pytest.mark.parametrize(
    "table",
    [
        "analytics.fact_procedures",
        "analytics.dim_robots",
        "analytics.fact_procedure_telemetry",
        "staging.surgical_procedures",
        "snapshots.snap_robots",
        "audit.etl_audit_log",
    ],
)
def test_the_analyst_reads_no_table(warehouse, table):
    url, _, analyst = warehouse
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        analyst_query(as_role(url, analyst), f"SELECT count(*) FROM {table}")


def test_the_analyst_cannot_create_or_change_anything(warehouse):
    url, _, analyst = warehouse
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        analyst_query(as_role(url, analyst), "CREATE TABLE analytics.mine (x int)")
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        analyst_query(as_role(url, analyst), "DROP VIEW analytics.vw_procedure_outcomes")


def test_no_clear_patient_id_reaches_the_warehouse(platform):
    source_url, warehouse_url, _, _, _ = platform
    patients = {
        row[0] for row in query(source_url, "SELECT patient_id FROM surgical_procedures WHERE patient_id IS NOT NULL")
    }
    assert patients
    columns = query(
        warehouse_url,
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_schema IN ('staging', 'snapshots', 'analytics') "
        "AND data_type IN ('character varying', 'text', 'jsonb')",
    )
    assert columns
    for schema, table, column in columns:
        found = query(
            warehouse_url, f'SELECT DISTINCT "{column}"::text FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL'
        )
        leaked = patients & {value for (value,) in found}
        assert not leaked, f"{schema}.{table}.{column} holds clear patient ids, e.g. {sorted(leaked)[:2]}"
    pseudonyms = query(
        warehouse_url, "SELECT count(*), count(DISTINCT patient_id), min(patient_id) FROM analytics.fact_procedures"
    )
    source_counts = query(source_url, "SELECT count(*), count(DISTINCT patient_id) FROM surgical_procedures")
    assert pseudonyms[0][:2] == source_counts[0]  # one pseudonym per patient: cohorts and readmissions still join
    assert pseudonyms[0][2].startswith("pt_")


def test_no_clear_patient_id_in_any_lake_object(platform):
    source_url, _, lake_dir, _, _ = platform
    patients = [row[0].encode() for row in query(source_url, "SELECT patient_id FROM surgical_procedures")]
    for path in Path(lake_dir).rglob("*"):
        if path.is_file():
            body = path.read_bytes()
            assert not any(patient in body for patient in patients), path


def test_neither_the_password_nor_the_key_appears_in_any_event_or_dbt_artefact(platform, secured_platform):
    _, _, lake_dir, instance, started = platform
    password, key = secured_platform.password, secured_platform.key
    runs = instance.get_runs()
    assert runs
    for run in runs:
        for record in instance.all_logs(run.run_id):
            text = serialize_value(record)
            assert password not in text and key not in text, record.dagster_event_type
        assert password not in serialize_value(run) and key not in serialize_value(run)
    for folder in (SQL_DIR / "target", SQL_DIR / "logs", Path(lake_dir)):
        for path in folder.rglob("*") if folder.exists() else []:
            if path.is_file() and path.stat().st_mtime >= started:
                body = path.read_bytes()
                assert password.encode() not in body and key.encode() not in body, path
