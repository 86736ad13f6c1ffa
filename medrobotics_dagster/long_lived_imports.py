"""Python's cyclic garbage collector kept off the objects that importing the platform allocates.

Importing Dagster, dagster-dbt (with dbt-core) and the definitions allocates about 465,000 objects that live as long
as the process. The collector would walk them again and again while they load, and once more at exit: 1.2 s of the
3.4 s an import of the definitions took here (`README.md`, Fixed costs).
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def long_lived_objects() -> Iterator[None]:
    """Pause the collector while the block allocates objects meant to live as long as the process, then move every
    object to the permanent generation, which later collections (and the one at exit) skip."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
