"""dagster-dbt's in-process adapter (column metadata) is opened in a thread while dbt starts, and waited for
before dbt's events are read; one that cannot be opened leaves the events without column metadata, as before."""

import logging
from concurrent.futures import Future
from types import SimpleNamespace

from medrobotics_dagster.defs.warehouse.dbt_parse_state import put_dbt_on_path
from medrobotics_dagster.defs.warehouse.dbt_project import ProjectDbtCliResource, adapter_when_open
from medrobotics_dagster_tests.warehouse.conftest import SQL_DIR


def test_the_adapter_is_opened_beside_the_caller_and_then_taken_from_the_future():
    put_dbt_on_path()
    pending = ProjectDbtCliResource(project_dir=str(SQL_DIR))._initialize_dbt_core_adapter([])
    assert isinstance(pending, Future)
    invocation = SimpleNamespace(adapter=pending)
    adapter_when_open(invocation)
    assert invocation.adapter.type() == "postgres"


def test_an_adapter_that_cannot_be_opened_leaves_none_and_a_warning(caplog):
    failed: Future = Future()
    failed.set_exception(RuntimeError("profile cannot be rendered"))
    invocation = SimpleNamespace(adapter=failed)
    with caplog.at_level(logging.WARNING):
        adapter_when_open(invocation)
    assert invocation.adapter is None
    assert "creating a handle to the dbt adapter" in caplog.text and "profile cannot be rendered" in caplog.text
