"""Connections: one URL parser, Redshift defaults, and a statement timeout set in the session (real PostgreSQL)."""

import psycopg2
import psycopg2.extensions
import pytest

from medrobotics_dagster.resources.postgres_connection import connect, connection_params, transaction
from medrobotics_dagster.settings import ConfigError


def dsn_of(url: str, dialect=None) -> dict[str, str]:
    return psycopg2.extensions.parse_dsn(connection_params(url, dialect).dsn())


def test_a_redshift_url_without_port_connects_to_5439_with_tls_and_keepalives():
    dsn = dsn_of("redshift://dwadmin:p%40ss@cluster.example.com/medrobotics_dw")
    assert dsn["host"] == "cluster.example.com"
    assert dsn["port"] == "5439"
    assert dsn["dbname"] == "medrobotics_dw"
    assert (dsn["user"], dsn["password"]) == ("dwadmin", "p@ss")
    assert dsn["sslmode"] == "require"
    assert (dsn["keepalives"], dsn["keepalives_idle"], dsn["keepalives_interval"], dsn["keepalives_count"]) == (
        "1",
        "60",
        "10",
        "5",
    )
    assert "options" not in dsn


def test_the_redshift_dialect_sets_the_defaults_even_for_a_postgresql_url():
    dsn = dsn_of("postgresql://dwadmin@cluster.example.com/dw", "redshift")
    assert (dsn["port"], dsn["sslmode"]) == ("5439", "require")


def test_a_postgresql_url_keeps_5432_and_an_explicit_sslmode_or_port_wins():
    assert (dsn_of("postgresql://u@db.internal/wh")["port"], dsn_of("postgresql://u@db.internal/wh")["sslmode"]) == (
        "5432",
        "prefer",
    )
    explicit = dsn_of("redshift://u@cluster.example.com:5440/dw?sslmode=verify-full")
    assert (explicit["port"], explicit["sslmode"]) == ("5440", "verify-full")


def test_a_socket_directory_in_the_query_is_the_host():
    assert dsn_of("postgresql://postgres:@/wh?host=/tmp/pg-socket")["host"] == "/tmp/pg-socket"


@pytest.mark.parametrize(
    "url, problem",
    [
        ("redshift://u@cluster.example.com/dw?sslmode=sometimes", "sslmode"),
        ("redshift://u@cluster.example.com/dw?options=-c%20x%3D1", "unsupported URL parameters"),
        ("mysql://u@db/dw", "postgresql://"),
    ],
)
def test_a_url_one_side_would_read_differently_is_refused_naming_the_setting(url, problem):
    with pytest.raises(ConfigError, match=problem) as info:
        connect(url, "MEDROBOTICS_WAREHOUSE_URL")
    assert info.value.setting == "MEDROBOTICS_WAREHOUSE_URL"


def test_the_statement_timeout_is_set_in_the_session_not_as_a_startup_option(warehouse_url):
    conn = connect(warehouse_url, "MEDROBOTICS_WAREHOUSE_URL", statement_timeout_s=1)
    try:
        assert not conn.get_dsn_parameters().get("options")
        assert conn.get_dsn_parameters()["keepalives_idle"] == "60"
        with conn.cursor() as cur:
            cur.execute("SHOW statement_timeout")
            assert cur.fetchone()[0] == "1s"
            with pytest.raises(psycopg2.errors.QueryCanceled):
                cur.execute("SELECT pg_sleep(3)")
        conn.rollback()
        # the SET was committed on its own: a rolled-back transaction does not undo it
        with conn.cursor() as cur:
            cur.execute("SHOW statement_timeout")
            assert cur.fetchone()[0] == "1s"
    finally:
        conn.close()


def test_a_redshift_dialect_connection_runs_the_set_on_a_real_server(warehouse_url):
    # sslmode=disable only because the local test server has no TLS; the dialect still picks the Redshift path
    with transaction(warehouse_url + "?sslmode=disable", "MEDROBOTICS_WAREHOUSE_URL", 1800, "redshift") as conn:
        with conn.cursor() as cur:
            cur.execute("SHOW statement_timeout")
            assert cur.fetchone()[0] == "30min"
            assert conn.get_dsn_parameters()["sslmode"] == "disable"


def test_rds_in_production_defaults_to_tls_while_a_local_postgresql_may_not(monkeypatch):
    from medrobotics_dagster.resources.postgres_connection import connection_params

    url = "postgresql://loader:pw@rds.example.internal:5432/operational"
    monkeypatch.setenv("MEDROBOTICS_ENV", "local")
    assert connection_params(url).sslmode == "prefer"
    monkeypatch.setenv("MEDROBOTICS_ENV", "prod")
    assert connection_params(url).sslmode == "require"
    assert connection_params(url + "?sslmode=verify-full").sslmode == "verify-full"
