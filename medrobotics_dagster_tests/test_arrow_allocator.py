"""Our processes give Arrow the system allocator (mimalloc keeps each parse thread's freed pages), unless the
user chose one."""

import os
import subprocess
import sys

import pytest

BACKEND = "import medrobotics_dagster, pandas, pyarrow; print(pyarrow.default_memory_pool().backend_name)"


@pytest.mark.parametrize(("chosen", "expected"), [(None, "system"), ("jemalloc", "jemalloc")])
def test_arrow_allocator_is_the_systems_unless_the_user_chose_one(chosen, expected):
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    out = subprocess.run([sys.executable, "-c", BACKEND], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected
