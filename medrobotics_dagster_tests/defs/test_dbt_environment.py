"""dbt's connection variables come from the warehouse URL, for every form of URL the platform accepts."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2.extensions
import pytest

from medrobotics_dagster.defs.warehouse.dbt_environment import dbt_connection_env, dbt_warehouse_env
from medrobotics_dagster.resources.databases import Warehouse
from medrobotics_dagster.resources.postgres_connection import connection_params

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"

# Renders sql/profiles.yml the way `dbt` does and prints the resulting credentials (own process: dbt's
# invocation context and flags are process-global).
RENDER_PROFILE = """
import json, os, sys
from argparse import Namespace
from dbt_common.context import set_invocation_context
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.flags import set_from_args
set_invocation_context(os.environ)
set_from_args(Namespace(), None)
profile = Profile.from_raw_profiles(read_profile(sys.argv[1]), "medrobotics", renderer=ProfileRenderer({}))
print(json.dumps({"target": profile.target_name, **profile.credentials.to_dict()}, default=str))
"""


def dbt_credentials(env: dict[str, str]) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MEDROBOTICS_DBT_")}
    out = subprocess.run(
        [sys.executable, "-c", RENDER_PROFILE, str(SQL_DIR)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_redshift_url_selects_the_redshift_target_with_its_default_port():
    env = dbt_connection_env("redshift://dwadmin:p%40ss%3Aword@cluster.example.com/medrobotics_dw", "redshift")
    assert env == {
        "MEDROBOTICS_DBT_TARGET": "redshift",
        "MEDROBOTICS_DBT_HOST": "cluster.example.com",
        "MEDROBOTICS_DBT_PORT": "5439",
        "MEDROBOTICS_DBT_USER": "dwadmin",
        "MEDROBOTICS_DBT_PASSWORD": "p@ss:word",
        "MEDROBOTICS_DBT_DBNAME": "medrobotics_dw",
        "MEDROBOTICS_DBT_SSLMODE": "require",
        "MEDROBOTICS_DBT_CONNECT_TIMEOUT": "30",
        "MEDROBOTICS_DBT_KEEPALIVES_IDLE": "60",
        "MEDROBOTICS_DBT_KEEPALIVES_INTERVAL": "10",
        "MEDROBOTICS_DBT_KEEPALIVES_COUNT": "5",
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


@pytest.mark.parametrize(
    "url, dialect",
    [
        ("redshift://dwadmin:s%3Acret@cluster.abc.eu-west-1.redshift.amazonaws.com/medrobotics_dw", "redshift"),
        ("postgresql://etl:pw@db.internal:6543/warehouse", "postgres"),
    ],
)
def test_python_and_dbt_connect_to_the_same_place_the_same_way(url, dialect):
    python = psycopg2.extensions.parse_dsn(connection_params(url, dialect).dsn())
    dbt = dbt_credentials(dbt_connection_env(url, dialect))
    assert dbt["target"] == dialect
    assert (dbt["host"], str(dbt["port"]), dbt["database"], dbt["user"], dbt["password"]) == (
        python["host"],
        python["port"],
        python["dbname"],
        python["user"],
        python["password"],
    )
    assert dbt["sslmode"] == python["sslmode"] == ("require" if dialect == "redshift" else "prefer")
    assert str(dbt["connect_timeout"]) == python["connect_timeout"]
    if dialect == "redshift":
        assert dbt["tcp_keepalive"] is True and python["keepalives"] == "1"
        assert (
            str(dbt["tcp_keepalive_idle"]),
            str(dbt["tcp_keepalive_interval"]),
            str(dbt["tcp_keepalive_count"]),
        ) == (python["keepalives_idle"], python["keepalives_interval"], python["keepalives_count"])
        assert python["port"] == "5439"
    else:
        assert str(dbt["keepalives_idle"]) == python["keepalives_idle"]
