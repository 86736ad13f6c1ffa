"""Writing, finding and deleting many lake objects quickly (threads for S3), with lake failures named as such."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from medrobotics_dagster import settings
from medrobotics_dagster.error_text import first_line
from medrobotics_dagster.resources.lake import Lake

# S3 puts are network round trips and parallelise well; local files are mostly syscalls under the GIL.
S3_WORKERS = 16
DIRECTORY_WORKERS = 4


@contextmanager
def lake_errors(action: str) -> Iterator[None]:
    """Turn storage failures into a ConfigError naming MEDROBOTICS_LAKE_URL."""
    try:
        yield
    except (OSError, BotoCoreError, ClientError) as exc:
        raise settings.ConfigError(settings.LAKE_URL, f"cannot {action}: {first_line(exc)}") from exc


def has_objects(lake: Lake, prefix: str) -> bool:
    """Whether any object's key starts with `prefix`."""
    with lake_errors(f"list {prefix}"):
        return next(iter(lake.list(prefix)), None) is not None


def write_objects(lake: Lake, objects: Iterable[tuple[str, bytes]], workers: int | None = None) -> int:
    """Put every (key, body), several at a time, holding only a bounded number in memory; returns the count."""
    open_backend(lake)
    return _run_parallel(lambda item: lake.put(*item), objects, workers or _workers(lake), "write to the lake")


def delete_prefix(lake: Lake, prefix: str, workers: int | None = None) -> int:
    """Delete every object under `prefix`; returns how many."""
    with lake_errors(f"list {prefix}"):
        keys = [obj.key for obj in lake.list(prefix)]
    return _run_parallel(lake.delete, keys, workers or _workers(lake), "delete from the lake")


def open_backend(lake: Lake) -> None:
    """Open the lake's storage client now, in this thread: boto3 clients must not be created concurrently."""
    _ = lake.backend


def _workers(lake: Lake) -> int:
    return S3_WORKERS if lake.resolved_url().startswith("s3://") else DIRECTORY_WORKERS


def _run_parallel(task, items: Iterable, workers: int, action: str) -> int:
    count = 0
    pending: set[Future] = set()
    with lake_errors(action), ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for item in items:
                pending.add(pool.submit(task, item))
                if len(pending) >= workers * 4:
                    count += _collect(pending, FIRST_COMPLETED)
            count += _collect(pending, ALL_COMPLETED)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return count


def _collect(pending: set[Future], return_when: str) -> int:
    done, not_done = wait(pending, return_when=return_when)
    pending.clear()
    pending.update(not_done)
    for future in done:
        future.result()  # re-raise the first failure
    return len(done)
