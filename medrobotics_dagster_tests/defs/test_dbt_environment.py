"""dbt's connection variables come from the warehouse URL, for every form of URL the platform accepts."""

import os

from medrobotics_dagster.defs.warehouse.dbt_environment import dbt_connection_env, dbt_warehouse_env
from medrobotics_dagster.resources.databases import Warehouse


def test_a_redshift_url_selects_the_redshift_target_with_its_default_port():
    env = dbt_connection_env("redshift://dwadmin:p%40ss%3Aword@cluster.example.com/medrobotics_dw", "redshift")
    assert env == {
        "MEDROBOTICS_DBT_TARGET": "redshift",
        "MEDROBOTICS_DBT_HOST": "cluster.example.com",
        "MEDROBOTICS_DBT_PORT": "5439",
        "MEDROBOTICS_DBT_USER": "dwadmin",
        "MEDROBOTICS_DBT_PASSWORD": "p@ss:word",
        "MEDROBOTICS_DBT_DBNAME": "medrobotics_dw",
    }


def test_an_embedded_server_socket_directory_is_the_host():
    env = dbt_connection_env("postgresql://postgres:@/medrobotics_warehouse?host=/tmp/pg-socket", "postgres")
    assert env["MEDROBOTICS_DBT_HOST"] == "/tmp/pg-socket"
    assert env["MEDROBOTICS_DBT_PORT"] == "5432"
    assert env["MEDROBOTICS_DBT_DBNAME"] == "medrobotics_warehouse"


def test_the_variables_are_set_only_while_dbt_starts(monkeypatch):
    monkeypatch.delenv("MEDROBOTICS_DBT_HOST", raising=False)
    monkeypatch.setenv("MEDROBOTICS_DBT_DBNAME", "before")
    with dbt_warehouse_env(Warehouse(url="postgresql://u@db.internal:6543/wh")):
        assert os.environ["MEDROBOTICS_DBT_HOST"] == "db.internal"
        assert os.environ["MEDROBOTICS_DBT_PORT"] == "6543"
    assert "MEDROBOTICS_DBT_HOST" not in os.environ
    assert os.environ["MEDROBOTICS_DBT_DBNAME"] == "before"
