"""Importing the definitions leaves the collector on, with what the import allocated in the permanent generation,
and leaves pandas unloaded."""

import gc
import subprocess
import sys

import pytest

from medrobotics_dagster.long_lived_imports import long_lived_objects


def test_importing_the_definitions_freezes_what_it_allocated_and_leaves_the_collector_on():
    script = (
        "import gc, medrobotics_dagster.definitions; print(gc.isenabled(), gc.get_freeze_count(), sum(gc.get_count()))"
    )
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    enabled, frozen, young = done.stdout.split()
    assert enabled == "True"
    assert int(frozen) > 200_000  # Dagster's, dbt-core's and ours (465,000 here)
    assert int(young) < 10_000


def test_the_collector_is_restored_even_when_the_block_fails():
    try:
        with pytest.raises(ZeroDivisionError), long_lived_objects():
            assert not gc.isenabled()
            _ = 1 / 0
        assert gc.isenabled()
        gc.disable()
        with long_lived_objects():
            pass
        assert not gc.isenabled()  # a collector turned off before stays off
    finally:
        gc.enable()


def test_loading_the_definitions_leaves_pandas_unloaded():
    """pandas is loaded where a frame is made (0.45 s of every process's start here otherwise): a process that
    makes none, such as the webserver or the daemon, never loads it."""
    script = "import sys, medrobotics_dagster.definitions; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False"]
