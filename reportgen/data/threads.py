"""Run blocking work on a few threads, taking the results back in order.

The data stage is mostly waiting on databases: SQLite and DuckDB release the GIL while a
statement runs, so reading two sources at once keeps both cores busy where one source at
a time leaves one idle.  At most ``workers`` items are in flight, so no more than that
many results (a source's rows can be large) wait to be used.
"""

from __future__ import annotations

import contextvars
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(work: Callable[[T], R], items: Iterable[T], workers: int, *,
                urgent: type[BaseException] | tuple[type[BaseException], ...] = (),
                stop: Callable[[], None] | None = None) -> Generator[R, None, None]:
    """``work(item)`` for each item on ``workers`` threads, yielded in the items' order.

    The first failure (in order) is raised where its result would have been yielded; items
    not started by then are cancelled.  A failure of an ``urgent`` type (running out of
    memory) is raised as soon as it happens instead, after ``stop()`` (which interrupts
    the items still running), rather than after the items before it.  Each item runs in a
    copy of the caller's context (locale, logging scope), as it would have in the caller's
    thread.
    """
    if workers <= 1:
        for item in items:
            yield work(item)
        return
    pending: deque[Future[R]] = deque()
    source = iter(items)

    def raise_urgent(future: Future[R]) -> None:
        failure = future.exception()
        if isinstance(failure, urgent):
            for other in pending:
                other.cancel()
            if stop is not None:
                stop()
            raise failure

    def next_result() -> R:
        if urgent:
            for future in pending:  # those finished while the caller used earlier results
                if future.done() and not future.cancelled():
                    raise_urgent(future)
            while not pending[0].done():
                # wait only on the running ones: a finished one would wake this at once,
                # and the loop would spin, holding the GIL the workers need
                running = [f for f in pending if not f.done()]
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    if not future.cancelled():
                        raise_urgent(future)
        return pending.popleft().result()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reportgen-read") as pool:
        try:
            for item in source:
                pending.append(pool.submit(contextvars.copy_context().run, work, item))
                if len(pending) >= workers:
                    yield next_result()
            while pending:
                yield next_result()
        finally:
            for future in pending:
                future.cancel()
