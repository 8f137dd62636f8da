"""What a run tells while it goes: typed events, and where they go.

The run core emits events (a stage started or finished, a segment settled, the gates'
verdict, the run's end); whoever started the run shows them its own way: the command line
as a progress display or JSON lines, the web page as a job's live stage, the daemon in its
log.  The sink is a context variable, so the pipeline's stages (and a plugin pipeline)
emit without being handed anything.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class RunEvent:
    """Something that happened in a run; ``kind`` names it for JSON readers."""

    kind: str = field(init=False, default="event")
    at: datetime = field(init=False, default_factory=lambda: datetime.now(UTC))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


@dataclass(frozen=True)
class RunStarted(RunEvent):
    report_id: str
    period: str
    trigger: str
    segments: int | None = None  # a fan-out: how many segments it will build
    kind: str = field(init=False, default="run_started")


@dataclass(frozen=True)
class StageStarted(RunEvent):
    stage: str
    kind: str = field(init=False, default="stage_started")


@dataclass(frozen=True)
class StageFinished(RunEvent):
    stage: str
    seconds: float
    kind: str = field(init=False, default="stage_finished")


@dataclass(frozen=True)
class SegmentFinished(RunEvent):
    segment: str
    status: str
    done: int
    total: int | None
    kind: str = field(init=False, default="segment_finished")


@dataclass(frozen=True)
class RunFinished(RunEvent):
    run_id: int | None
    status: str
    error: str | None
    seconds: float
    kind: str = field(init=False, default="run_finished")


Sink = Callable[[RunEvent], None]

_sink: ContextVar[Sink | None] = ContextVar("reportgen_run_events", default=None)


def emit(event: RunEvent) -> None:
    """Tell the current run's sink (if anyone listens); a failing sink never stops a run."""
    sink = _sink.get()
    if sink is not None:
        with contextlib.suppress(Exception):
            sink(event)


@contextlib.contextmanager
def listening(sink: Sink | None) -> Iterator[None]:
    """Send the events emitted inside the block (in this thread) to ``sink``."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


@contextlib.contextmanager
def recording() -> Iterator[list[RunEvent]]:
    """Keep the events emitted inside the block (in this thread), each still told to
    whoever was listening already."""
    outer = _sink.get()
    kept: list[RunEvent] = []

    def both(event: RunEvent) -> None:
        kept.append(event)
        if outer is not None:
            with contextlib.suppress(Exception):
                outer(event)

    token = _sink.set(both)
    try:
        yield kept
    finally:
        _sink.reset(token)


def stage_times(seen: list[RunEvent]) -> list[dict[str, Any]]:
    """How long each finished stage took, in order: ``[{"stage": "data", "seconds": 1.2}]``."""
    return [{"stage": e.stage, "seconds": e.seconds} for e in seen
            if isinstance(e, StageFinished)]


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Emit StageStarted, then StageFinished with the stage's wall time."""
    emit(StageStarted(name))
    began = time.perf_counter()
    try:
        yield
    finally:
        emit(StageFinished(name, round(time.perf_counter() - began, 3)))
