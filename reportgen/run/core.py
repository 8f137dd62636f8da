"""The run core: one ``RunRequest`` in, one ``RunOutcome`` out, events on the way.

The command line, the schedule daemon, the web page and the Celery workers all start runs
here and differ only in where the work is placed and how they show the events.  Loading
the definition, choosing the period, a fan-out or a single report, the ledger, the run
lock, the gates, approval, delivery, retention: all of it is wired once, below.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportgen import text
from reportgen.data.configure import configure_from
from reportgen.errors import GateFailure
from reportgen.ledger.records import RunRecord, Trigger
from reportgen.ledger.retention import REUSE_FOLDER, prune_after_run
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.run import events
from reportgen.run.build import build_report
from reportgen.run.fanout import only_segment
from reportgen.run.pipeline import resolve_pipeline
from reportgen.run.runner import run_fanout, run_report

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition
    from reportgen.delivery.email import UnknownOutcome
    from reportgen.settings import Settings


@dataclass(frozen=True)
class RunRequest:
    """What to run: a definition file for a period (None: the last complete one)."""

    definition: Path
    period: str | None = None
    trigger: Trigger = "manual"
    #: deliver (after approval, when the definition asks for it); False builds and records
    send: bool = False
    #: a fan-out: only this segment (by its name)
    segment: str | None = None
    #: who asked (a web user's name; None for the command line and the schedule)
    requested_by: str | None = None
    #: settles recipients whose earlier send has no known outcome ('sent' or 'resend')
    confirm_unknown: UnknownOutcome | None = None
    #: render processes for a fan-out (default: the settings' ``jobs``)
    jobs: int | None = None
    #: where the files go (default: the settings' ``out_dir``)
    out_dir: Path | None = None
    #: a scheduled run skips a period that already succeeded
    skip_done: bool = False


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: its ledger record (and a fan-out's segment runs), or why there was
    none; ``failure`` is the exception behind a failed build or render, so a caller can tell
    bad input from an internal error."""

    record: RunRecord | None
    children: tuple[RunRecord, ...] = ()
    failure: BaseException | None = None
    skipped: str | None = None

    @property
    def status(self) -> str:
        return self.record.status if self.record is not None else "skipped"


def execute(request: RunRequest, settings: Settings, *,
            loaded: LoadedDefinition | None = None, ledger: Ledger | None = None,
            sink: events.Sink | None = None, now: Callable[[], datetime] | None = None,
            environ: Mapping[str, str] | None = None) -> RunOutcome:
    """Run ``request`` to its end and return the outcome.

    ``loaded`` skips reading the definition again (the web page keeps it loaded); ``ledger``
    reuses an open ledger (else one is opened on the settings' URL and closed after);
    ``sink`` receives the run's events; ``now`` is the clock.  Raises RunLocked when the
    report and period is already running, and DefinitionError for a definition that does
    not load; every other outcome is returned.
    """
    configure_from(settings, request.out_dir)
    pipeline = resolve_pipeline(settings.pipeline)
    if loaded is None:
        loaded = pipeline.load(request.definition)
    (request.out_dir or settings.resolved_out_dir()).mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if ledger is None:
            ledger = Ledger(settings.resolved_ledger_url(),
                            out_dir=request.out_dir or settings.resolved_out_dir())
            stack.callback(ledger.close)
        if now is not None:
            ledger = ledger.with_clock(now)
        spec = loaded.definition.period
        period = (Period.parse(request.period, spec.grain, spec.timezone) if request.period
                  else Period.last_complete(ledger.now(), spec.grain, spec.timezone))
        if request.trigger in ("schedule", "retry"):
            pause = ledger.pauses.get(loaded.definition.id)
            if pause is not None:
                return RunOutcome(None, skipped=(
                    f"{loaded.definition.id}'s schedule was paused by {pause.paused_by} on "
                    f"{text.timestamp(pause.paused_at)}"))
        if request.skip_done:
            done = [r for r in ledger.history(loaded.definition.id)
                    if r.period == period.key and r.status == "succeeded"]
            if done:
                return RunOutcome(None, skipped=f"{loaded.definition.id} {period.key} already "
                                                f"succeeded in run #{done[0].id}")
        stack.enter_context(events.listening(sink))
        began = time.perf_counter()
        outcome = _run(request, settings, loaded, period, ledger, pipeline, environ)
        if outcome.record is not None:
            if settings.retention.active:
                prune_after_run(settings, ledger, request.out_dir or settings.resolved_out_dir())
            record = outcome.record
            events.emit(events.RunFinished(record.id, record.status, record.error,
                                           round(time.perf_counter() - began, 3)))
        return outcome


def _run(request: RunRequest, settings: Settings, loaded: LoadedDefinition, period: Period,
         ledger: Ledger, pipeline: Any, environ: Mapping[str, str] | None) -> RunOutcome:
    out_dir = request.out_dir or settings.resolved_out_dir()
    common: dict[str, Any] = dict(
        trigger=request.trigger, ledger=ledger, out_dir=out_dir, send=request.send,
        smtp=settings.smtp, lock_ttl=timedelta(minutes=settings.lock_minutes),
        on_unknown=request.confirm_unknown or "hold", public_url=settings.web.public_url,
        environ=environ)
    definition = loaded.definition
    if definition.fan_out is not None:
        target = only_segment(loaded, request.segment) if request.segment else loaded
        total = len(target.definition.fan_out.values or ()) or None  # type: ignore[union-attr]
        events.emit(events.RunStarted(definition.id, period.key, request.trigger, total))
        done = 0

        def progress(segment: str, status: str) -> None:
            nonlocal done
            done += 1
            events.emit(events.SegmentFinished(segment, status, done, total))

        record = run_fanout(target, period, domains=settings.allowed_domains,
                            jobs=request.jobs or settings.jobs, progress=progress, **common)
        return RunOutcome(record, tuple(ledger.children_of(record.id)))
    if request.segment:
        from reportgen.errors import InputError

        raise InputError(f"{definition.id} has no fan_out, so no segment '{request.segment}'")
    events.emit(events.RunStarted(definition.id, period.key, request.trigger))
    failures: list[BaseException] = []

    # The runner records every outcome in the ledger; the caller also gets the exception
    # itself, to tell bad input (exit 2) from an internal error.
    def build(loaded_: Any, period_: Period, *, now: datetime) -> Any:
        try:
            if pipeline.build is build_report:  # reportgen's own: reuses what it computed
                return build_report(loaded_, period_, now=now,
                                    reuse_dir=out_dir / REUSE_FOLDER / definition.id)
            return pipeline.build(loaded_, period_, now=now)
        except GateFailure:
            raise
        except Exception as exc:
            failures.append(exc)
            raise

    def render(loaded_: Any, result: Any, directory: Path) -> Any:
        try:
            return pipeline.render(loaded_, result, directory)
        except Exception as exc:
            failures.append(exc)
            raise

    record = run_report(loaded, period, build=build, render=render, **common)
    return RunOutcome(record, failure=failures[0] if failures and record.status == "failed"
                      else None)
