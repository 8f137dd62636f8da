"""Render several built reports at once in a process pool.

Rendering is CPU-bound (WeasyPrint layout, chart drawing) and each report is independent,
so a fan-out's reports render in ``jobs`` processes.  Each outcome comes back as a
``Rendered``: its artifacts, or the error that stopped that one report.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.report.model.report_model import Artifact

logger = logging.getLogger(__name__)

#: imported once by the fork server, so each render process starts with them loaded
_PRELOAD = ["reportgen.run.build", "reportgen.render.pdf", "reportgen.render.pptx_deck",
            "reportgen.render.xlsx", "reportgen.charts"]


def pool_context() -> multiprocessing.context.BaseContext:
    """Render processes start from a fork server (a clean process that has opened no data
    and runs no threads) or are spawned: never forked from this process, which may hold
    DuckDB's threads or a database pool by now (a fork copies their locks, not their
    threads, and the child can hang or crash on them)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


class RenderFailed(Exception):
    """A report in the pool failed to render; the message is the original error."""


@dataclass(frozen=True)
class Rendered:
    artifacts: tuple[Artifact, ...] = ()
    error: str | None = None
    seconds: float = 0.0

    def get(self) -> list[Artifact]:
        """The artifacts, or the render's error raised here (where the run records it)."""
        if self.error is not None:
            raise RenderFailed(self.error)
        return list(self.artifacts)


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _render_one(render: Callable[..., list[Artifact]], loaded: Any, result: Any,
                out_dir: Path) -> Rendered:
    began = time.perf_counter()
    try:
        artifacts = render(loaded, result, out_dir)
    except Exception as exc:  # one report's failure is that report's, not the batch's
        return Rendered(error=f"{type(exc).__name__}: {exc}",
                        seconds=time.perf_counter() - began)
    return Rendered(tuple(artifacts), seconds=time.perf_counter() - began)


def _ready() -> None:
    """A no-op: submitting it starts the pool's processes."""


class RenderPool:
    """Renders reports as they are handed in, on ``jobs`` processes, while the caller goes on
    building the next ones; ``results()`` gives each outcome in the order handed in.

    The processes come from ``pool_context()``, so it does not matter what this process
    has opened.  With one job, or inside a daemonic process (a Celery prefork child, which
    may not have children), each report renders on the spot, here.
    """

    def __init__(self, render: Callable[..., list[Artifact]], out_dir: Path, jobs: int):
        self.render = render
        self.out_dir = out_dir
        self.jobs = max(1, jobs)
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[Any] = []
        #: What was handed in, in order (``results()`` lines up with it).
        self.handed: list[Any] = []
        #: When the first report was handed in (perf_counter), None before.
        self.first_submit: float | None = None

    def __enter__(self) -> RenderPool:
        if self.jobs > 1 and multiprocessing.current_process().daemon:
            logger.info("rendering in this process: a daemonic process (a worker's child) "
                        "may not start render processes")
            self.jobs = 1
        if self.jobs > 1:
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=pool_context())
            self._pool.submit(_ready).result()  # the processes are up before work is handed in
        return self

    def __exit__(self, *exc: object) -> None:
        # After results() nothing is left to cancel; leaving before it means the caller
        # gave up (its build failed), so reports not yet started are not rendered.
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, loaded: Any, result: Any) -> None:
        if self.first_submit is None:
            self.first_submit = time.perf_counter()
        self.handed.append(loaded)
        if self._pool is None:
            self._pending.append(_render_one(self.render, loaded, result, self.out_dir))
        else:
            self._pending.append(self._pool.submit(_render_one, self.render, loaded, result,
                                                   self.out_dir))

    def results(self) -> list[Rendered]:
        return [p if isinstance(p, Rendered) else p.result() for p in self._pending]


def render_all(render: Callable[..., list[Artifact]], work: Sequence[tuple[Any, Any]],
               out_dir: Path, jobs: int | None = None) -> list[Rendered]:
    """``render(loaded, result, out_dir)`` for each pair, in order, on ``jobs`` processes
    (default: the cores this process may use; 1 renders here, without a pool)."""
    with RenderPool(render, out_dir, min(jobs or default_jobs(), len(work) or 1)) as pool:
        for loaded, result in work:
            pool.submit(loaded, result)
        return pool.results()
