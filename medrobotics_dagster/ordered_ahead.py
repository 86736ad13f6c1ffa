"""A bounded look-ahead: a function mapped over items by worker threads, its results handed over in the items'
order while the caller works on the previous one. The telemetry load parses days ahead of writing them, and the
warehouse COPY makes its CSV ahead of sending it; Arrow's readers and kernels release Python's lock, so the
threads use a second core."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def ordered_ahead(
    function: Callable[[Item], Result], items: Iterable[Item], workers: int, ahead: int, name: str
) -> Iterator[Result]:
    """`function` of each item, in order, with up to `ahead` results being made or waiting (memory grows by as
    many; the threads are named `name`). The first error is raised in the caller's loop and stops the work: what
    was queued is cancelled, what runs is waited for; the same when the caller stops early or closes the iterator."""
    remaining = iter(items)
    pending: deque[Future] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name) as pool:
        try:
            pending.extend(pool.submit(function, item) for item in islice(remaining, ahead))
            while pending:
                future = pending.popleft()
                pending.extend(pool.submit(function, item) for item in islice(remaining, 1))
                yield future.result()
        finally:
            for future in pending:
                future.cancel()
