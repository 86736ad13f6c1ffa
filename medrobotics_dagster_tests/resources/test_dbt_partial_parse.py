"""dbt parses the project once per connection profile: later invocations (as dagster-dbt starts them, with
target/partial_parse.msgpack copied into their own target path) partial-parse instead of re-parsing it all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid

import pytest

from medrobotics_dagster.defs.warehouse import dbt_parse_state
from medrobotics_dagster.defs.warehouse.dbt_environment import TELEMETRY_FACT_HOOK, dbt_connection_env, dbt_window_env
from medrobotics_dagster.defs.warehouse.dbt_parse_state import (
    PARTIAL_PARSE_FILE,
    dbt_command,
    ensure_partial_parse,
    manifest_path,
    put_dbt_on_path,
)
from medrobotics_dagster.defs.warehouse.dbt_project import dbt_project, ensure_manifest
from medrobotics_dagster.project_paths import DBT_TARGET_DIR
from medrobotics_dagster_tests.dbt_state_age import BEFORE_EVERY_CHANGE, age_dbt_state


def dbt_parse(env: dict[str, str], target, *flags: str) -> str:
    put_dbt_on_path()
    result = subprocess.run(
        [*dbt_command("parse", target), "--log-format", "text", *flags],
        env={**os.environ, **env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_an_invocation_with_the_warehouse_profile_partial_parses(warehouse_url, tmp_path):
    env = dbt_connection_env(warehouse_url, "postgres")
    ensure_partial_parse(env)
    assert ensure_partial_parse(env) is False  # already current: no second parse

    # What dagster-dbt does for each invocation: its own target path, seeded with the project's partial parse.
    target = tmp_path / "invocation"
    target.mkdir()
    shutil.copy(DBT_TARGET_DIR / PARTIAL_PARSE_FILE, target / PARTIAL_PARSE_FILE)
    log = dbt_parse(env, target)
    assert "Unable to do partial parsing" not in log, log

    # Another warehouse (another profile) parses once more, then is current too.
    # (a name of its own: parse states of earlier test runs are kept under sql/target/tests-*)
    other = dbt_connection_env(warehouse_url.rsplit("/", 1)[0] + f"/another_db_{uuid.uuid4().hex[:8]}", "postgres")
    assert ensure_partial_parse(other) is True
    assert ensure_partial_parse(other) is False

    # Back to the first warehouse: its earlier parse is put back, not parsed again, and dbt partial-parses with it.
    assert ensure_partial_parse(env) is False
    again = tmp_path / "invocation-again"
    again.mkdir()
    shutil.copy(DBT_TARGET_DIR / PARTIAL_PARSE_FILE, again / PARTIAL_PARSE_FILE)
    log = dbt_parse(env, again)
    assert "Unable to do partial parsing" not in log, log


@pytest.mark.parametrize(
    "step_env",
    [dbt_window_env("", ""), dbt_window_env("2024-03-02", "2024-03-03"), {TELEMETRY_FACT_HOOK: "false"}],
    ids=["the views' empty window", "one day's window", "the telemetry fact's hook off"],
)
def test_what_a_dbt_step_sets_for_its_run_re_parses_no_file(warehouse_url, tmp_path, step_env):
    """The partition window and the hook switch are read when dbt executes, not when it parses: each dbt step
    sets its own, and a file whose parse read one would be parsed again in every step (a second each here)."""
    env = dbt_connection_env(warehouse_url, "postgres")
    ensure_partial_parse(env)
    target = tmp_path / "invocation"
    target.mkdir()
    shutil.copy(DBT_TARGET_DIR / PARTIAL_PARSE_FILE, target / PARTIAL_PARSE_FILE)
    log = dbt_parse({**env, **step_env}, target, "--debug")
    assert "Nothing changed, skipping partial parsing" in log, log


def test_after_a_change_of_the_project_the_parse_starts_from_the_state_there_was(warehouse_url, tmp_path, monkeypatch):
    """A change of one file re-parses that file, not the whole project (dbt's log of the parse says so)."""
    env = dbt_connection_env(warehouse_url, "postgres")
    ensure_partial_parse(env)
    state = DBT_TARGET_DIR / PARTIAL_PARSE_FILE
    age_dbt_state()
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path))
    assert ensure_partial_parse(env) is True
    log = (tmp_path / "dbt.log").read_text()
    assert "Partial parsing enabled" in log and "Unable to do partial parsing" not in log, log
    assert state.stat().st_mtime > BEFORE_EVERY_CHANGE and ensure_partial_parse(env) is False


def test_the_manifest_dagster_loads_is_the_one_the_parse_state_installs():
    assert dbt_project.manifest_path == manifest_path()


def test_a_saved_parse_older_than_a_dbt_file_is_not_put_back(tmp_path):
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / PARTIAL_PARSE_FILE).write_bytes(b"state")
    (saved / "manifest.json").write_text("{}")
    installed = tmp_path / PARTIAL_PARSE_FILE
    os.utime(saved / PARTIAL_PARSE_FILE, (0, 0))  # parsed before every file of sql/ was last written
    assert dbt_parse_state._install_saved_parse(saved, installed, with_manifest=False) is False
    assert not installed.exists()
    os.utime(saved / PARTIAL_PARSE_FILE)  # parsed now: current
    assert dbt_parse_state._install_saved_parse(saved, installed, with_manifest=False) is True
    assert installed.read_bytes() == b"state"


def test_a_manifest_parsed_for_a_known_warehouse_brings_the_dbt_steps_partial_parse_state(warehouse_url, monkeypatch):
    """One parse, not two, when the definitions load for a warehouse whose connection is known (a first demo)."""
    import json

    url = warehouse_url.rsplit("/", 1)[0] + "/parsed_once_for_both"
    monkeypatch.setenv("MEDROBOTICS_WAREHOUSE_URL", url)
    monkeypatch.delenv("MEDROBOTICS_DBT_DBNAME", raising=False)
    ensure_manifest()
    nodes = json.loads(dbt_project.manifest_path.read_text())["nodes"].values()
    assert {n["database"] for n in nodes if n["resource_type"] == "model"} == {"parsed_once_for_both"}
    assert ensure_partial_parse(dbt_connection_env(url, "postgres")) is False
    # the same database through another address (a new MEDROBOTICS_HOME's socket, say): the manifest stays, and the
    # dbt steps' partial-parse state is made for the new settings when the definitions load
    other_address = url.replace("127.0.0.1", "localhost")
    assert other_address != url
    monkeypatch.setenv("MEDROBOTICS_WAREHOUSE_URL", other_address)
    ensure_manifest()
    assert ensure_partial_parse(dbt_connection_env(other_address, "postgres")) is False


def test_only_the_newest_invocation_folders_stay_under_sql_target(tmp_path):
    import os

    from medrobotics_dagster.defs.warehouse import dbt_project as project

    target = tmp_path / "target"
    target.mkdir()
    names = [f"daily_fact_models-{i:07x}-abcdef{i % 10}" for i in range(14)]
    for age, name in enumerate(names):
        (target / name).mkdir()
        os.utime(target / name, (1_000_000 + age, 1_000_000 + age))
    (target / "queries").mkdir()  # compiled sample queries: not an invocation folder
    project.prune_invocation_targets(target, keep=10)
    assert sorted(p.name for p in target.iterdir()) == sorted(names[4:] + ["queries"])


def test_each_test_process_parses_in_a_dbt_target_of_its_own():
    """pytest-xdist's workers inherit the controller's environment: a shared target would make each worker's parse
    for its warehouse replace another's, and every dbt step parse the whole project again."""
    from medrobotics_dagster_tests.conftest import SET_PER_PROCESS

    if "DBT_TARGET_PATH" not in os.environ.get(SET_PER_PROCESS, "").split(","):
        pytest.skip("DBT_TARGET_PATH was set by the developer")
    assert DBT_TARGET_DIR.name == f"tests-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def test_without_a_dbt_to_run_the_parse_gives_way_to_the_invocation(warehouse_url, tmp_path, monkeypatch):
    """No dbt to start: no parse and no crash here; the dbt step itself then reports what is wrong."""
    monkeypatch.setattr(dbt_parse_state, "dbt_executable", lambda: str(tmp_path / "no-dbt"))
    never_parsed = dbt_connection_env(
        warehouse_url.rsplit("/", 1)[0] + f"/never_parsed_{uuid.uuid4().hex[:8]}", "postgres"
    )
    assert ensure_partial_parse(never_parsed) is False


def test_the_manifest_after_a_change_is_parsed_from_the_last_parse_for_its_database(tmp_path, monkeypatch):
    """Loading the definitions after a change of the project re-parses what changed, from the last parse for the
    manifest's database, in a dbt of its own (dagster-dbt's own parse, with its `dbt --version`, does not run)."""
    database = f"manifest_db_{uuid.uuid4().hex[:8]}"
    monkeypatch.delenv("MEDROBOTICS_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("MEDROBOTICS_DBT_DBNAME", database)
    monkeypatch.setattr(type(dbt_project.preparer), "prepare", lambda *_: pytest.fail("dagster-dbt's parse ran"))
    ensure_manifest()  # the first parse for this database
    age_dbt_state()
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path))
    ensure_manifest()
    log = (tmp_path / "dbt.log").read_text()
    assert "Partial parsing enabled" in log and "Unable to do partial parsing" not in log, log
    nodes = json.loads(manifest_path().read_text())["nodes"].values()
    assert {n["database"] for n in nodes if n["resource_type"] == "model"} == {database}
    assert manifest_path().stat().st_mtime > BEFORE_EVERY_CHANGE


def test_a_project_that_does_not_parse_fails_to_load_with_dbts_reason(monkeypatch):
    """Where the parse fails, dagster-dbt's own parse raises with dbt's reason (the definitions do not load)."""
    age_dbt_state()
    monkeypatch.delenv("MEDROBOTICS_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("MEDROBOTICS_DBT_DBNAME", f"unparsable_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("MEDROBOTICS_DBT_PORT", "not-a-port")
    with pytest.raises(Exception, match="not-a-port"):
        ensure_manifest()
