"""Each environment's resource set, and the commands' share of it: the same databases and lake as the runs use."""

import dagster as dg
import pytest

from medrobotics_dagster import settings
from medrobotics_dagster.environments import command_resources, resources_for_environment

PROD = {
    settings.SOURCE_DB_URL: "postgresql://app@source.example.invalid:5432/operations",
    settings.WAREHOUSE_URL: "redshift://etl@warehouse.example.invalid:5439/analytics",
    settings.LAKE_URL: "s3://medrobotics-lake/prod",
}


@pytest.fixture
def prod(monkeypatch) -> None:
    monkeypatch.setenv(settings.ENV, "prod")
    for name, value in PROD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(settings.REDSHIFT_IAM_ROLE, raising=False)


def test_commands_get_prod_stores_with_their_settings_read_now(prod):
    resources = command_resources()
    assert resources.source.url == PROD[settings.SOURCE_DB_URL]  # the value, not the variable's name
    assert resources.warehouse.url == PROD[settings.WAREHOUSE_URL]
    assert resources.lake.url == PROD[settings.LAKE_URL]
    assert resources.warehouse.dialect == "redshift"
    assert resources.warehouse.iam_role is None  # unset: left for the preflight check that names it


def test_the_runs_get_the_same_prod_stores_resolved_at_run_time(prod):
    resources = resources_for_environment()
    commands = command_resources()
    assert resources["warehouse"].dialect == commands.warehouse.dialect == "redshift"
    for key, setting in (("source_db", settings.SOURCE_DB_URL), ("warehouse", settings.WAREHOUSE_URL)):
        assert isinstance(resources[key].url, dg.EnvVar) and resources[key].url.env_var_name == setting
    assert resources["warehouse_io_manager"].warehouse == resources["warehouse"]


def test_commands_get_the_local_stores(monkeypatch):
    monkeypatch.setenv(settings.ENV, "local")
    resources = command_resources()
    assert resources.warehouse.dialect == "postgres"
    assert resources.warehouse == resources_for_environment()["warehouse"]
    assert resources.source == resources_for_environment()["source_db"]


@pytest.mark.parametrize("environment", ["local", "prod"])
def test_query_runs_on_the_environment_warehouse(environment, prod, monkeypatch):
    """`medrobotics query` stays free of Dagster (it starts in a fraction of a second), so it reads the settings
    itself: the same warehouse and dialect as the resource set's."""
    from medrobotics_dagster.query import WarehouseTarget

    monkeypatch.setenv(settings.ENV, environment)
    warehouse = command_resources().warehouse
    assert WarehouseTarget.configured() == WarehouseTarget(warehouse.resolved_url(), warehouse.dialect)
