"""`medrobotics-dbt` is dbt's command line (same output and exit codes), and the dbt steps start it."""

import os
import subprocess

from dbt.version import __version__

from medrobotics_dagster.defs.warehouse.dbt_executable import EXECUTABLE, dbt_executable
from medrobotics_dagster.defs.warehouse.dbt_parse_state import put_dbt_on_path
from medrobotics_dagster.defs.warehouse.dbt_project import dbt_cli_resource


def run(*args: str) -> subprocess.CompletedProcess:
    put_dbt_on_path()  # PATH with the virtualenv's bin folder, as the dbt steps have it
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=120)


def test_medrobotics_dbt_answers_as_dbt_does():
    ours, theirs = run(dbt_executable(), "--version"), run("dbt", "--version")
    assert dbt_executable() == EXECUTABLE
    assert ours.returncode == theirs.returncode == 0
    assert f"installed: {__version__}" in ours.stdout
    wrong, wrong_too = run(dbt_executable(), "no-such-command"), run("dbt", "no-such-command")
    assert wrong.returncode == wrong_too.returncode != 0
    assert "no-such-command" in wrong.stderr


def test_the_dbt_steps_start_medrobotics_dbt():
    assert dbt_cli_resource().dbt_executable == EXECUTABLE
