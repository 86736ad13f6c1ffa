"""dbt-common names the module that declared each behavior flag of an adapter by walking `inspect.stack()`, which reads
the source lines of every frame on the stack, and it does so for every flag each time an adapter is created (even
when the flag names its own source). Under Dagster or pytest the stack is deep: it was 5 % of the test suite's CPU
(py-spy), and it runs in every dbt step's adapter. The same answer comes from the frames' module names alone."""

from __future__ import annotations

import sys

from dbt_common import behavior_flags

DBT_COMMON_FLAG_SOURCE = behavior_flags.BehaviorFlagRendered.__dict__["_default_source"]  # before any replacement


def _calling_module() -> str:
    """The first module up the stack other than dbt-common's behavior_flags (dbt-common's own rule)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name != behavior_flags.__name__:
            return name
        frame = frame.f_back
    return "Unknown"


def use_fast_flag_source() -> None:
    """Make dbt-common find a behavior flag's source from module names, without reading source files."""
    behavior_flags.BehaviorFlagRendered._default_source = staticmethod(_calling_module)
