"""Sources are read on a few threads, their results taken back in order."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest

from reportgen.data.threads import ordered_map


def test_items_run_at_the_same_time_and_come_back_in_order() -> None:
    # Each item waits for the other at a barrier: only concurrent work gets past it.
    barrier = threading.Barrier(2, timeout=10)

    def work(item: int) -> int:
        time.sleep(0.05 * (2 - item))  # the first finishes last
        barrier.wait()
        return item * 10

    assert list(ordered_map(work, [0, 1], workers=2)) == [0, 10]


def test_no_more_than_workers_are_in_flight() -> None:
    running = 0
    most = 0
    lock = threading.Lock()

    def work(item: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return item

    assert list(ordered_map(work, range(8), workers=2)) == list(range(8))
    assert most == 2


def test_the_first_failure_in_order_is_raised_and_later_items_are_not_started() -> None:
    started: list[int] = []

    def work(item: int) -> int:
        started.append(item)
        if item in (1, 2):
            time.sleep(0.05 if item == 1 else 0)
            raise ValueError(f"item {item}")
        return item

    got: list[int] = []
    with pytest.raises(ValueError, match="item 1"):
        for value in ordered_map(work, range(10), workers=2):
            got.append(value)
    assert got == [0]
    assert max(started) <= 3  # the window never ran ahead of the failure by more than 2


def test_each_item_sees_the_callers_context() -> None:
    locale = contextvars.ContextVar("locale", default="en")
    token = locale.set("de")
    try:
        assert list(ordered_map(lambda _: locale.get(), range(3), workers=2)) == ["de"] * 3
    finally:
        locale.reset(token)


def test_one_worker_runs_in_the_callers_thread() -> None:
    caller = threading.get_ident()
    assert list(ordered_map(lambda _: threading.get_ident(), range(2), workers=1)) == [caller] * 2


def test_waiting_on_a_slow_first_item_does_not_spin_when_a_later_one_is_done() -> None:
    """With an urgent failure type, the caller waits for the first item without burning a
    core (and the GIL) because the second item finished before it."""

    def work(item: float) -> float:
        time.sleep(item)
        return item

    started = time.thread_time()
    results = list(ordered_map(work, [0.6, 0.0], workers=2, urgent=MemoryError))
    assert results == [0.6, 0.0]
    assert time.thread_time() - started < 0.2  # spinning costs the whole 0.6 s


def test_an_urgent_failure_of_a_later_item_is_raised_before_a_slow_first_item_ends() -> None:
    stopped = threading.Event()

    def work(item: str) -> str:
        if item == "slow":
            stopped.wait(5)
            return item
        raise MemoryError("out of memory")

    began = time.monotonic()
    with pytest.raises(MemoryError):
        list(ordered_map(work, ["slow", "fails"], workers=2, urgent=MemoryError,
                         stop=stopped.set))
    assert time.monotonic() - began < 2 and stopped.is_set()
