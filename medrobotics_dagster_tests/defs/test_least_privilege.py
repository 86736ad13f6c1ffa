"""Least privilege on PostgreSQL: the platform runs as a loader role that owns the warehouse schemas; an analyst
role reads the views and nothing else. Both are real roles connecting to a real server."""

import uuid

import dagster as dg
import psycopg2
import pytest

from medrobotics_dagster.materialize import materialize_everything
from medrobotics_dagster.resources.databases import SourceDatabase
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.staleness import partition_range, procedure_days
from medrobotics_dagster.synthetic.generator import generate
from medrobotics_dagster_tests.conftest import SERVER_URL, _admin
from medrobotics_dagster_tests.database import query

WAREHOUSE_SCHEMAS = ("staging", "snapshots", "intermediate", "analytics", "audit")


def as_role(url: str, role: str) -> str:
    return url.replace("postgres@", f"{role}@")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    tag = uuid.uuid4().hex[:8]
    loader, analyst = f"mr_loader_{tag}", f"mr_analyst_{tag}"
    source_db, warehouse_db = f"mr_test_roles_src_{tag}", f"mr_test_roles_wh_{tag}"
    for role in (loader, analyst):
        _admin(f'CREATE ROLE "{role}" LOGIN')
    for name in (source_db, warehouse_db):
        _admin(f'CREATE DATABASE "{name}"')
    _admin(f'GRANT CREATE ON DATABASE "{warehouse_db}" TO "{loader}"')
    base = SERVER_URL.rsplit("/", 1)[0]
    source_url, warehouse_url = f"{base}/{source_db}", f"{base}/{warehouse_db}"
    lake_dir = tmp_path_factory.mktemp("lake")
    patch = pytest.MonkeyPatch()
    patch.setenv("MEDROBOTICS_SOURCE_DB_URL", source_url)
    patch.setenv("MEDROBOTICS_WAREHOUSE_URL", as_role(warehouse_url, loader))  # the platform connects as the loader
    patch.setenv("MEDROBOTICS_LAKE_URL", str(lake_dir))
    patch.setenv("MEDROBOTICS_PATIENT_ID_KEY", "k" * 40)
    patch.setenv("MEDROBOTICS_ANALYST_ROLE", analyst)
    generate(source_url, Lake(url=str(lake_dir)), scale=0.02, seed=4)
    from medrobotics_dagster.definitions import defs

    materialize_everything(defs, dg.DagsterInstance.ephemeral(), partition_range(procedure_days(SourceDatabase())))
    yield warehouse_url, loader, analyst
    patch.undo()
    for name in (source_db, warehouse_db):
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for role in (loader, analyst):
        _admin(f'DROP ROLE IF EXISTS "{role}"')


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
