"""deploy/dagster.prod.yaml through Dagster's own instance loader: PostgreSQL storage on a real server, the
EcsRunLauncher (boto3 against moto's server), S3 compute logs, run monitoring, retries and queue limits."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


@pytest.fixture
def prod_instance(make_database, s3_endpoint, s3_bucket, tmp_path, monkeypatch):
    url = urlsplit(make_database("dagster_prod"))
    monkeypatch.setenv("DAGSTER_PG_HOST", url.hostname)
    monkeypatch.setenv("DAGSTER_PG_PORT", str(url.port))
    monkeypatch.setenv("DAGSTER_PG_DB", url.path.lstrip("/"))
    monkeypatch.setenv("DAGSTER_PG_USERNAME", url.username)
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "unused-with-trust-auth")
    monkeypatch.setenv("MEDROBOTICS_DAGSTER_LOGS_BUCKET", s3_bucket)
    for service in ("ECS", "EC2", "SECRETSMANAGER", "LOGS"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", s3_endpoint)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(DEPLOY / "dagster.prod.yaml", home / "dagster.yaml")  # what the image does
    # the local server does not speak TLS; the file asks for sslmode=require (RDS)
    text = (home / "dagster.yaml").read_text().replace("sslmode: require", "sslmode: prefer")
    (home / "dagster.yaml").write_text(text)
    instance = dg.DagsterInstance.from_config(str(home))
    yield instance
    instance.dispose()


def test_the_prod_instance_config_loads_with_dagsters_loader(prod_instance):
    from dagster_aws.ecs import EcsRunLauncher
    from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    instance = prod_instance
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    assert isinstance(instance.run_launcher, EcsRunLauncher)
    assert instance.run_launcher.container_name == "dagster"
    assert isinstance(instance.compute_log_manager, S3ComputeLogManager)
    assert instance.run_monitoring_enabled and instance.run_monitoring_max_runtime_seconds == 1800
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
    assert instance.run_retries_retry_on_asset_or_op_failure is False
    assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 4
    # the storage really is the PostgreSQL server: a run written through the instance is read back
    run = instance.create_run_for_job(dg.GraphDefinition("noop").to_job(), run_id=None)
    assert instance.get_run_by_id(run.run_id).job_name == "noop"


def test_the_image_prepares_the_dbt_manifest_at_build_time_and_ships_the_prod_instance():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    prepare = re.search(r"dagster-dbt project prepare-and-package --file (\S+)", dockerfile)
    assert prepare, "the manifest must be prepared while building"
    from dagster_dbt import DbtProject

    module = (REPO / prepare.group(1)).relative_to(REPO).with_suffix("").as_posix().replace("/", ".")
    project = __import__(module, fromlist=["dbt_project"]).dbt_project
    assert isinstance(project, DbtProject)
    assert "COPY deploy/dagster.prod.yaml ${DAGSTER_HOME}/dagster.yaml" in dockerfile
    for copied in re.findall(r"^COPY (\S+) ", dockerfile, flags=re.M):
        assert (REPO / copied).exists(), copied
