"""The bounded look-ahead shared by the telemetry parse and the warehouse COPY: results in the items' order, no
more than `ahead` made before the caller asks, and an error or an early stop ends every thread it started."""

from __future__ import annotations

import threading
import time

import pytest

from medrobotics_dagster.ordered_ahead import ordered_ahead


def threads(name: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(name)]


def test_results_come_in_the_items_order_whatever_order_they_finish_in():
    def slow_first(n: int) -> int:
        time.sleep(0.05 if n % 3 == 0 else 0)
        return n * n

    assert list(ordered_ahead(slow_first, range(20), workers=3, ahead=3, name="order")) == [n * n for n in range(20)]
    assert not threads("order")


def test_no_more_than_ahead_items_are_started_before_the_caller_asks():
    started: list[int] = []

    def record(n: int) -> int:
        started.append(n)
        return n

    results = ordered_ahead(record, range(100), workers=2, ahead=3, name="bounded")
    assert next(results) == 0
    time.sleep(0.2)  # time for the workers to start anything they were given
    assert sorted(started) == [0, 1, 2, 3]  # the first, and three ahead of the one the caller holds
    results.close()
    assert not threads("bounded")


def test_an_error_reaches_the_caller_in_order_and_stops_the_work():
    started: list[int] = []

    def fail_at_two(n: int) -> int:
        started.append(n)
        if n == 2:
            raise ValueError("item 2 cannot be made")
        time.sleep(0.01)
        return n

    results = ordered_ahead(fail_at_two, range(100), workers=2, ahead=2, name="failing")
    assert [next(results), next(results)] == [0, 1]
    with pytest.raises(ValueError, match="item 2"):
        next(results)
    assert max(started) <= 4 and not threads("failing")


def test_a_caller_that_stops_early_cancels_what_was_queued_and_waits_for_what_runs():
    release, second_started = threading.Event(), threading.Event()
    finished: list[int] = []

    def wait_for_release(n: int) -> int:
        if n > 0:
            second_started.set()
            release.wait(5)
        finished.append(n)
        return n

    results = ordered_ahead(wait_for_release, range(100), workers=1, ahead=4, name="abandoned")
    assert next(results) == 0 and second_started.wait(5)
    threading.Timer(0.1, release.set).start()
    results.close()  # item 1 runs on the one worker; 2..4 are queued and never start
    assert finished == [0, 1] and not threads("abandoned")
