"""Privacy end to end: no clear patient id in the warehouse or the lake, and neither the database password nor
the pseudonymization key in any event of any run, in dbt's artefacts or in the lake."""

import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._serdes import serialize_value

from medrobotics_dagster.materialize import materialize_everything
from medrobotics_dagster.resources.databases import SourceDatabase
from medrobotics_dagster.resources.lake import Lake
from medrobotics_dagster.staleness import partition_range, procedure_days
from medrobotics_dagster.synthetic.generator import generate
from medrobotics_dagster_tests.database import query

PASSWORD = f"Pw{uuid.uuid4().hex}"
KEY = f"Key{uuid.uuid4().hex}{uuid.uuid4().hex}"
SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


def with_password(url: str) -> str:
    return url.replace("postgres@", f"postgres:{PASSWORD}@")  # the server trusts local connections: it is ignored


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    from medrobotics_dagster_tests.conftest import SERVER_URL, _admin

    names = [f"mr_test_privacy_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("source", "warehouse")]
    for name in names:
        _admin(f'CREATE DATABASE "{name}"')
    source_url, warehouse_url = (SERVER_URL.rsplit("/", 1)[0] + "/" + name for name in names)
    lake_dir = tmp_path_factory.mktemp("lake")
    patch = pytest.MonkeyPatch()
    patch.setenv("MEDROBOTICS_SOURCE_DB_URL", with_password(source_url))
    patch.setenv("MEDROBOTICS_WAREHOUSE_URL", with_password(warehouse_url))
    patch.setenv("MEDROBOTICS_LAKE_URL", str(lake_dir))
    patch.setenv("MEDROBOTICS_PATIENT_ID_KEY", KEY)
    started = __import__("time").time()
    generate(source_url, Lake(url=str(lake_dir)), scale=0.02, seed=21)
    from medrobotics_dagster.definitions import defs

    instance = dg.DagsterInstance.ephemeral()
    materialize_everything(defs, instance, partition_range(procedure_days(SourceDatabase())))
    yield source_url, warehouse_url, lake_dir, instance, started
    patch.undo()
    for name in names:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


def test_neither_the_password_nor_the_key_appears_in_any_event_or_dbt_artefact(platform):
    _, _, lake_dir, instance, started = platform
    runs = instance.get_runs()
    assert runs
    for run in runs:
        for record in instance.all_logs(run.run_id):
            text = serialize_value(record)
            assert PASSWORD not in text and KEY not in text, record.dagster_event_type
        assert PASSWORD not in serialize_value(run) and KEY not in serialize_value(run)
    for folder in (SQL_DIR / "target", SQL_DIR / "logs", Path(lake_dir)):
        for path in folder.rglob("*") if folder.exists() else []:
            if path.is_file() and path.stat().st_mtime >= started:
                body = path.read_bytes()
                assert PASSWORD.encode() not in body and KEY.encode() not in body, path
