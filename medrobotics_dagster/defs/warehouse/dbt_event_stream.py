"""dagster-dbt's post-processing of a dbt invocation's events (column metadata), without a busy wait.

dagster-dbt attaches metadata to dbt's events in a thread pool through `dagster._core.utils.imap`, whose loop
spins without sleeping while dbt has produced no event yet: a whole core of this 2-core machine, for the whole
of every dbt step, taken from dbt and the warehouse (py-spy of the test suite: 47 % of its samples in that loop).
This module gives dagster-dbt the same map, which waits instead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

import dagster_dbt.core.dbt_event_iterator as dbt_event_iterator

T = TypeVar("T")
P = TypeVar("P")
POLL_SECONDS = 0.05


def imap_waiting(executor: ThreadPoolExecutor, iterable: Iterator[T], func: Callable[[T], P]) -> Iterator[P]:
    """`func` over `iterable` in `executor`, results in input order as soon as each is ready; blocks, never spins."""
    work_queue: deque[Future] = deque()

    def enqueue() -> None:
        for item in iterable:
            work_queue.append(executor.submit(func, item))

    enqueuing = executor.submit(enqueue)
    while True:
        if work_queue:
            yield work_queue[0].result()
            work_queue.popleft()
        elif enqueuing.done():
            if not work_queue:  # everything enqueued has been yielded
                break
        else:
            wait([enqueuing], timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
    error = enqueuing.exception()
    if error:
        raise error


def use_waiting_imap() -> None:
    """Make dagster-dbt's event iterator use `imap_waiting` (it imports `imap` by name)."""
    dbt_event_iterator.imap = imap_waiting
