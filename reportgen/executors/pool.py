"""Render several built reports at once in a process pool.

Rendering is CPU-bound (WeasyPrint layout, chart drawing) and each report is independent,
so a fan-out's reports render in ``jobs`` processes.  Each outcome comes back as a
``Rendered``: its artifacts, or the error that stopped that one report.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.model import Artifact


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


def render_all(render: Callable[..., list[Artifact]], work: Sequence[tuple[Any, Any]],
               out_dir: Path, jobs: int | None = None) -> list[Rendered]:
    """``render(loaded, result, out_dir)`` for each pair, in order, on ``jobs`` processes
    (default: the cores this process may use; 1 renders here, without a pool)."""
    jobs = max(1, min(jobs or default_jobs(), len(work) or 1))
    if jobs == 1:
        return [_render_one(render, loaded, result, out_dir) for loaded, result in work]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_render_one, render, loaded, result, out_dir)
                   for loaded, result in work]
        return [f.result() for f in futures]
