"""dagster-dbt's event post-processing map: same results and errors as Dagster's, without burning a core while dbt
has not produced an event yet."""

import time
from concurrent.futures import ThreadPoolExecutor

import dagster_dbt.core.dbt_event_iterator as dbt_event_iterator
import pytest
from dagster._core.utils import imap as dagster_imap

from medrobotics_dagster.defs.warehouse.dbt_event_stream import imap_waiting


def slow_events(n: int, pause: float):
    for i in range(n):
        time.sleep(pause)  # dbt still running: no event yet
        yield i


def consume(imap, events) -> tuple[list, float]:
    """The results, and the CPU seconds this process spent while waiting for them."""
    started = time.process_time()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(imap(pool, events, lambda x: x * 10))
    return results, time.process_time() - started


def test_results_come_in_order_and_errors_of_the_stream_are_raised():
    assert consume(imap_waiting, iter(range(50)))[0] == [i * 10 for i in range(50)]

    def failing():
        yield 1
        raise RuntimeError("dbt stream broke")

    with pytest.raises(RuntimeError, match="dbt stream broke"):
        consume(imap_waiting, failing())


def test_waiting_for_dbt_costs_no_cpu_where_dagsters_map_spins():
    ours, our_cpu = consume(imap_waiting, slow_events(3, 0.4))
    theirs, their_cpu = consume(dagster_imap, slow_events(3, 0.4))
    assert ours == theirs == [0, 10, 20]
    # 1.2 s of waiting: Dagster's loop spins through it. How much CPU a spinning thread gets depends on the
    # machine's load (0.13 s in one CI run on a busy host), so theirs is compared with ours, not with a constant.
    assert our_cpu < 0.2 and their_cpu > 10 * our_cpu, (our_cpu, their_cpu)


def test_the_definitions_make_dagster_dbt_use_the_waiting_map():
    import medrobotics_dagster.defs.warehouse.dbt_assets  # noqa: F401 - loading the dbt assets installs it

    assert dbt_event_iterator.imap is imap_waiting
