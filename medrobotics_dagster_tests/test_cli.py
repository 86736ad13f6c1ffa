"""The `medrobotics` command: success output, and one-line errors naming the setting at fault."""

from __future__ import annotations

import os
import subprocess
import sys

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


def test_bad_environment_names_the_setting(tmp_path):
    result = run_cli("generate", env={"MEDROBOTICS_ENV": "staging", "MEDROBOTICS_LAKE_URL": str(tmp_path)})
    assert_one_line_error(result, "MEDROBOTICS_ENV")


def test_unwritable_lake_names_the_setting_and_leaves_the_source_alone(env, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    result = run_cli("generate", *SMALL, env={**env, "MEDROBOTICS_LAKE_URL": str(blocker / "lake")})
    assert_one_line_error(result, "MEDROBOTICS_LAKE_URL")
    ok = run_cli("generate", *SMALL, env=env)  # nothing was left behind that would make this refuse
    assert ok.returncode == 0, ok.stderr


def test_malformed_lake_url_names_the_setting(env):
    result = run_cli("generate", *SMALL, env={**env, "MEDROBOTICS_LAKE_URL": "ftp://example.com/lake"})
    assert_one_line_error(result, "MEDROBOTICS_LAKE_URL")


def test_missing_s3_bucket_names_the_setting(env, s3_endpoint):
    names = ("AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    aws = {k: os.environ[k] for k in names}
    result = run_cli("generate", *SMALL, env={**env, **aws, "MEDROBOTICS_LAKE_URL": "s3://no-such-bucket-cli/lake"})
    assert_one_line_error(result, "MEDROBOTICS_LAKE_URL")


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
