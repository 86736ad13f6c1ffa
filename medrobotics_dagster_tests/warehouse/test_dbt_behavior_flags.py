"""A behavior flag's source found from the frames' module names names the same module as dbt-common's own lookup,
without walking `inspect.stack()` (which reads every frame's source file)."""

from __future__ import annotations

import inspect

import pytest
from dbt_common import behavior_flags
from dbt_common.behavior_flags import Behavior

from medrobotics_dagster.defs.warehouse.dbt_behavior_flags import DBT_COMMON_FLAG_SOURCE, use_fast_flag_source

FLAGS = [{"name": "require_something_new", "default": False, "description": "turned off"}]


def flag_source() -> str:
    return Behavior(FLAGS, {}).require_something_new._behavior_change_event.flag_source


def nested(depth: int) -> str:
    return flag_source() if depth == 0 else nested(depth - 1)


@pytest.fixture
def stock_lookup(monkeypatch):
    monkeypatch.setattr(behavior_flags.BehaviorFlagRendered, "_default_source", DBT_COMMON_FLAG_SOURCE)


def test_the_source_is_the_module_dbt_commons_own_lookup_names(stock_lookup, monkeypatch):
    stock = nested(30)
    use_fast_flag_source()
    assert nested(30) == stock == __name__


def test_the_source_is_found_without_reading_the_stack(stock_lookup, monkeypatch):
    use_fast_flag_source()

    def no_stack(*args, **kwargs):
        raise AssertionError("inspect.stack() was called")

    monkeypatch.setattr(inspect, "stack", no_stack)
    assert flag_source() == __name__


def test_a_flag_that_names_its_source_keeps_it():
    use_fast_flag_source()
    flags = [{**FLAGS[0], "source": "dbt.adapters.postgres"}]
    assert Behavior(flags, {}).require_something_new._behavior_change_event.flag_source == "dbt.adapters.postgres"
