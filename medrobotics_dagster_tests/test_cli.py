"""The `medrobotics` command: success output, and one-line errors naming the setting at fault."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC

import pytest

from medrobotics_dagster.cli import build_parser, main

SMALL = ["--scale", "0.02"]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run `python -m medrobotics_dagster.cli ARGS` with only the given medrobotics settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MEDROBOTICS_")}
    return subprocess.run(
        [sys.executable, "-m", "medrobotics_dagster.cli", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0]


@pytest.fixture
def env(source_url, tmp_path) -> dict[str, str]:
    return {"MEDROBOTICS_SOURCE_DB_URL": source_url, "MEDROBOTICS_LAKE_URL": str(tmp_path / "lake")}


def test_generate_refuse_reset_and_simulate_day(env):
    result = run_cli("generate", *SMALL, "--seed", "3", env=env)
    assert result.returncode == 0, result.stderr
    assert "Generated 100 procedures" in result.stdout and "Telemetry:" in result.stdout

    again = run_cli("generate", *SMALL, env=env)
    assert_one_line_error(again, "already holds data", "--reset")

    reset = run_cli("generate", *SMALL, "--reset", env=env)
    assert reset.returncode == 0, reset.stderr

    day = run_cli("simulate-day", "--seed", "9", env=env)
    assert day.returncode == 0, day.stderr
    assert day.stdout.startswith("Simulated ") and "software_version" in day.stdout and "bed_count" in day.stdout

    past = run_cli("simulate-day", "--date", "2024-01-01", env=env)
    assert_one_line_error(past, "2024-01-01", "only moves forward")


@pytest.mark.parametrize(
    "url",
    ["notaurl", "mysql://user@host/db", "postgresql://postgres@127.0.0.1:5432", "postgresql://postgres@127.0.0.1:1/x"],
)
def test_bad_or_unreachable_database_names_the_setting(url, tmp_path):
    result = run_cli("generate", *SMALL, env={"MEDROBOTICS_SOURCE_DB_URL": url, "MEDROBOTICS_LAKE_URL": str(tmp_path)})
    assert_one_line_error(result, "MEDROBOTICS_SOURCE_DB_URL")
    assert result.returncode == 2


def test_prod_without_a_database_url_names_the_setting(tmp_path):
    result = run_cli("simulate-day", env={"MEDROBOTICS_ENV": "prod", "MEDROBOTICS_LAKE_URL": str(tmp_path)})
    assert_one_line_error(result, "MEDROBOTICS_SOURCE_DB_URL", "prod")
    assert result.returncode == 2


def test_bad_environment_names_the_setting(tmp_path):
    result = run_cli("generate", env={"MEDROBOTICS_ENV": "staging", "MEDROBOTICS_LAKE_URL": str(tmp_path)})
    assert_one_line_error(result, "MEDROBOTICS_ENV")
    assert result.returncode == 2


def test_unwritable_lake_names_the_setting_and_leaves_the_source_alone(env, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    result = run_cli("generate", *SMALL, env={**env, "MEDROBOTICS_LAKE_URL": str(blocker / "lake")})
    assert_one_line_error(result, "MEDROBOTICS_LAKE_URL")
    assert result.returncode == 2
    ok = run_cli("generate", *SMALL, env=env)  # nothing was left behind that would make this refuse
    assert ok.returncode == 0, ok.stderr


def test_malformed_lake_url_names_the_setting(env):
    result = run_cli("generate", *SMALL, env={**env, "MEDROBOTICS_LAKE_URL": "ftp://example.com/lake"})
    assert_one_line_error(result, "MEDROBOTICS_LAKE_URL")
    assert result.returncode == 2


def test_missing_s3_bucket_names_the_setting(env, s3_endpoint):
    names = ("AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    aws = {k: os.environ[k] for k in names}
    result = run_cli("generate", *SMALL, env={**env, **aws, "MEDROBOTICS_LAKE_URL": "s3://no-such-bucket-cli/lake"})
    assert_one_line_error(result, "MEDROBOTICS_LAKE_URL")
    assert result.returncode == 2


def aws_env(**overrides: str) -> dict[str, str]:
    """The moto endpoint and keys the s3_endpoint fixture set, for a subprocess; no shared files, no IMDS."""
    names = ("AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    env = {k: os.environ[k] for k in names}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent", AWS_CONFIG_FILE="/nonexistent", AWS_EC2_METADATA_DISABLED="true"
    )
    env.update(overrides)
    return env


def run_without_aws_keys(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Like run_cli, with no AWS credentials anywhere in the environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MEDROBOTICS_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-m", "medrobotics_dagster.cli", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def warehouse_schemas(url: str) -> list[str]:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT nspname FROM pg_namespace WHERE nspname IN ('staging', 'snapshots', 'analytics')")
        return [row[0] for row in cur.fetchall()]


@pytest.mark.parametrize("command", ["demo", "generate", "simulate-day"])
def test_s3_lake_without_credentials_is_one_line_exit_2(command, env, s3_endpoint, s3_bucket):
    aws = {k: v for k, v in aws_env().items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    result = run_without_aws_keys(command, env={**env, **aws, "MEDROBOTICS_LAKE_URL": f"s3://{s3_bucket}/lake"})
    assert_one_line_error(result, "MEDROBOTICS_LAKE_URL", "credentials")
    assert result.returncode == 2


@pytest.mark.parametrize("command", ["demo", "generate"])
def test_unreachable_s3_endpoint_is_one_line_exit_2_and_quick(command, env):
    import time

    started = time.monotonic()
    aws = {
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_CONFIG_FILE": "/nonexistent",
    }
    result = run_without_aws_keys(command, *SMALL, env={**env, **aws, "MEDROBOTICS_LAKE_URL": "s3://some-bucket/lake"})
    assert_one_line_error(result, "MEDROBOTICS_LAKE_URL", "cannot reach", "AWS_ENDPOINT_URL_S3")
    assert result.returncode == 2
    assert time.monotonic() - started < 60


def test_demo_checks_the_lake_before_the_warehouse_and_writes_nothing(env, s3_endpoint, warehouse_url):
    result = run_cli(
        "demo",
        *SMALL,
        env={
            **env,
            **aws_env(),
            "MEDROBOTICS_LAKE_URL": "s3://no-such-bucket-demo/lake",
            "MEDROBOTICS_WAREHOUSE_URL": "postgresql://postgres@127.0.0.1:1/x",
        },
    )
    assert_one_line_error(result, "MEDROBOTICS_LAKE_URL", "no-such-bucket-demo")
    assert result.returncode == 2
    ok_warehouse = run_cli(
        "demo",
        *SMALL,
        env={
            **env,
            **aws_env(),
            "MEDROBOTICS_LAKE_URL": "s3://no-such-bucket-demo/lake",
            "MEDROBOTICS_WAREHOUSE_URL": warehouse_url,
        },
    )
    assert_one_line_error(ok_warehouse, "MEDROBOTICS_LAKE_URL")
    assert warehouse_schemas(warehouse_url) == [] and warehouse_schemas(env["MEDROBOTICS_SOURCE_DB_URL"]) == []


def test_generate_on_a_filled_source_names_a_bad_lake_first(env, s3_endpoint):
    assert run_cli("generate", *SMALL, env=env).returncode == 0
    result = run_cli(
        "generate", *SMALL, env={**env, **aws_env(), "MEDROBOTICS_LAKE_URL": "s3://no-such-bucket-filled/lake"}
    )
    assert_one_line_error(result, "MEDROBOTICS_LAKE_URL")
    assert "already holds data" not in result.stderr and result.returncode == 2


def test_unusable_home_names_the_setting(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = run_cli("generate", *SMALL, env={"MEDROBOTICS_HOME": str(blocker / ".medrobotics")})
    assert_one_line_error(result, "MEDROBOTICS_HOME")
    assert result.returncode == 2


@pytest.mark.parametrize("problem", ["missing", "relative", "a-file"])
def test_an_unusable_dagster_home_is_one_line_exit_2_before_anything_runs(problem, env, warehouse_url, tmp_path):
    target = {
        "missing": str(tmp_path / "not-yet" / "dagster"),
        "relative": "dagster_home",
        "a-file": str(tmp_path / "x"),
    }[problem]
    (tmp_path / "x").write_text("x")
    settings = {
        "MEDROBOTICS_WAREHOUSE_URL": warehouse_url,
        "MEDROBOTICS_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": target,
    }
    result = run_cli("demo", env={**env, **settings})
    assert_one_line_error(result, "DAGSTER_HOME")
    assert result.returncode == 2
    assert not (tmp_path / "lake").exists()  # checked before the lake is written


def test_prod_demo_without_an_iam_role_names_the_setting(env, warehouse_url, s3_bucket):
    plain = "?sslmode=disable"  # production asks for TLS by default; the local test server has none
    prod = {
        **aws_env(),
        "MEDROBOTICS_ENV": "prod",
        "MEDROBOTICS_SOURCE_DB_URL": env["MEDROBOTICS_SOURCE_DB_URL"] + plain,
        "MEDROBOTICS_WAREHOUSE_URL": warehouse_url + plain,
        "MEDROBOTICS_LAKE_URL": f"s3://{s3_bucket}/lake",
    }
    result = run_cli("demo", env=prod)
    assert_one_line_error(result, "MEDROBOTICS_REDSHIFT_IAM_ROLE")
    assert result.returncode == 2


@pytest.mark.parametrize("command", ["generate", "demo"])
def test_history_window_that_ends_before_it_starts_is_one_line(command, env):
    result = run_cli(command, "--start", "2024-02-01", "--end", "2024-01-01", env=env)
    assert_one_line_error(result, "--start/--end")
    assert result.returncode == 2


def test_generate_defaults_to_the_history_start_through_yesterday_and_keeps_fixed_windows(env):
    from datetime import date, datetime, timedelta

    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    start = yesterday - timedelta(days=400)
    result = run_cli("generate", *SMALL, "--seed", "3", env={**env, "MEDROBOTICS_HISTORY_START": start.isoformat()})
    assert result.returncode == 0, result.stderr
    assert f"({start} .. {yesterday})" in result.stdout
    fixed = run_cli(
        "generate", *SMALL, "--seed", "3", "--reset", "--start", "2023-01-01", "--end", "2024-12-31", env=env
    )
    assert "(2023-01-01 .. 2024-12-31)" in fixed.stdout
    assert date(2024, 12, 31) < yesterday
    early = run_cli("demo", "--start", "2022-12-31", env={**env, "MEDROBOTICS_HISTORY_START": "2023-01-01"})
    assert (
        early.returncode == 2 and "--start: 2022-12-31 is before the first daily partition 2023-01-01" in early.stderr
    )


def test_settings_do_not_depend_on_resources():
    """Layering: resources read settings, never the other way round (not even lazily)."""
    import inspect

    from medrobotics_dagster import settings

    assert "medrobotics_dagster.resources" not in inspect.getsource(settings)
    code = (
        "import sys, medrobotics_dagster.settings; print(sorted(m for m in sys.modules if "
        "m.startswith('medrobotics_dagster.')))"
    )
    assert (
        "resources"
        not in subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )


@pytest.mark.parametrize(
    "args, flag",
    [
        (["generate", "--scale", "-1"], "--scale"),
        (["generate", "--scale", "0"], "--scale"),
        (["generate", "--scale", "lots"], "--scale"),
        (["generate", "--seed", "-3"], "--seed"),
        (["simulate-day", "--date", "2024-13-45"], "--date"),
        (["simulate-day", "--seed", "x"], "--seed"),
    ],
)
def test_bad_flags_are_one_line_naming_the_flag(args, flag, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and flag in err[0]


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["generate", "--bogus"]])
def test_unknown_commands_and_flags_are_one_line(args, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code != 0
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.parametrize("url", ["notaurl", "postgresql://postgres@127.0.0.1:1/x"])
def test_demo_with_a_bad_warehouse_names_the_setting_before_running_anything(env, url):
    result = run_cli("demo", *SMALL, env={**env, "MEDROBOTICS_WAREHOUSE_URL": url})
    assert_one_line_error(result, "MEDROBOTICS_WAREHOUSE_URL")
    assert result.returncode == 2


def test_stop_without_an_embedded_server_says_so(tmp_path):
    result = run_cli("stop", env={"MEDROBOTICS_HOME": str(tmp_path / ".medrobotics")})
    assert result.returncode == 0, result.stderr
    assert "not running" in result.stdout


def test_parser_knows_every_subcommand():
    parser = build_parser()
    assert parser.parse_args(["demo"]).scale == 1.0
    assert parser.parse_args(["stop"]).run.__name__ == "run_stop"
    assert parser.parse_args(["generate"]).scale == 1.0
    args = parser.parse_args(["simulate-day", "--date", "2025-02-03", "--seed", "5"])
    assert str(args.date) == "2025-02-03" and args.seed == 5


def test_the_cli_pins_the_state_directory_before_any_working_directory_change(tmp_path, monkeypatch):
    """dagster-dbt changes the working directory while it streams dbt's events: the default home must not follow."""
    monkeypatch.setenv("MEDROBOTICS_HOME", "placeholder")
    monkeypatch.delenv("MEDROBOTICS_HOME")  # recorded, so the value the CLI sets is removed after the test
    monkeypatch.chdir(tmp_path)
    from medrobotics_dagster import settings
    from medrobotics_dagster.cli import main

    main(["stop"])
    monkeypatch.chdir(tmp_path.parent)
    assert settings.home() == (tmp_path / ".medrobotics").resolve()
