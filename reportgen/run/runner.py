"""One run of one report for one period, start to end: lock, record, build, then publish,
hold or fail; a fan-out run with its segments; a resend of a finished run.

This is where the pure pipeline meets the world.  The order is what keeps promises to
readers: nothing is rendered or sent until every gate has passed, so leadership never
receives a report built on incomplete data; a held run is recorded with its reasons and a
retry time, and only its owner is told.  Every run, whatever its end, is in the ledger:
succeeded, partial (some recipients not reached or unconfirmed), failed, held, or
interrupted (Ctrl-C or SIGTERM); the owner is alerted once for a failed or partial one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from reportgen.definition.delivery_specs import EmailSpec
from reportgen.delivery.content import MailContent
from reportgen.delivery.email import DeliveryReport, UnknownOutcome, deliver_email
from reportgen.errors import DeliveryError, GateFailure, InputError
from reportgen.ledger.pruning import check_not_pruned
from reportgen.ledger.records import RunRecord, Trigger
from reportgen.ledger.store import Ledger, RunLock
from reportgen.period import Period
from reportgen.render.files import remove_stale_parts, run_folder
from reportgen.report.claims import enforce_claims
from reportgen.report.restatement import with_restatements
from reportgen.settings import SmtpSettings

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition
from reportgen.run import events
from reportgen.run.failures import alert_failure, record_failure
from reportgen.run.holds import hold_run
from reportgen.run.pipeline import BuildFn, RenderFn, code_version, resolve_pipeline
from reportgen.run.publishing import publish_run, sent_numbers

logger = logging.getLogger(__name__)


def run_report(loaded: LoadedDefinition, period: Period, *, trigger: Trigger, ledger: Ledger,
               out_dir: Path, send: bool, smtp: SmtpSettings | None,
               now: Callable[[], datetime] | None = None, build: BuildFn | None = None,
               render: RenderFn | None = None, sleep: Callable[[float], None] = time.sleep,
               lock_ttl: timedelta = timedelta(hours=2),
               environ: Mapping[str, str] | None = None,
               on_unknown: UnknownOutcome = "hold",
               public_url: str | None = None) -> RunRecord:
    """Run ``loaded`` for ``period`` and return the run as recorded.

    ``now`` is the clock for the run and what it records (defaults to the ledger's);
    ``build``/``render`` default to the pipeline's; ``lock_ttl`` is the longest the run
    may hold its lock (settings ``lock_minutes``); ``on_unknown`` settles recipients whose
    earlier send has no known outcome (``reportgen.delivery.email``); ``public_url`` (settings
    ``web.public_url``) puts a link to the run's web page in its messages.  Raises RunLocked
    when the same report and period is already running; every other outcome is returned,
    never raised.  An interrupt (KeyboardInterrupt, SystemExit) records the run as
    'interrupted', releases the lock and propagates.
    """
    if now is not None:
        ledger = ledger.with_clock(now)  # one clock for the run and its ledger records
    if build is None or render is None:
        default = resolve_pipeline()
        build, render = build or default.build, render or default.render
    definition = loaded.definition
    with ledger.locked(definition.id, period.key, ttl=lock_ttl) as lock:
        run_id = ledger.start_run(definition.id, period.key, trigger=trigger,
                                  definition_hash=loaded.hash, code_version=code_version())
        logger.info("run #%d: %s for %s (%s) started", run_id, definition.id, period.key,
                    trigger)
        try:
            # a stopped writer leaves its .part in its own run's folder
            runs_folder = run_folder(out_dir, definition.id, period.key, run_id).parent
            for folder in (out_dir, *sorted(runs_folder.glob("run-*"))):
                remove_stale_parts(folder)
            with events.recording() as seen:
                _run_locked(loaded, period, run_id, ledger=ledger, out_dir=out_dir,
                            send=send, smtp=smtp, build=build, render=render, sleep=sleep,
                            environ=environ, on_unknown=on_unknown, lock=lock,
                            public_url=public_url)
            ledger.record_stages(run_id, events.stage_times(seen))  # the report's run log
        except BaseException as exc:  # Ctrl-C, SIGTERM or exit: not left 'running'
            ledger.finish_run(run_id, "interrupted", error=f"interrupted ({type(exc).__name__})")
            raise
        record = ledger.get_run(run_id)
        if send and record.status in ("failed", "partial"):
            alert_failure(loaded, period, record, ledger=ledger, smtp=smtp, environ=environ)
        return ledger.get_run(run_id)


def _run_locked(loaded: LoadedDefinition, period: Period, run_id: int, *, ledger: Ledger,
                out_dir: Path, send: bool, smtp: SmtpSettings | None, build: BuildFn,
                render: RenderFn, sleep: Callable[[float], None],
                environ: Mapping[str, str] | None, on_unknown: UnknownOutcome,
                lock: RunLock, public_url: str | None = None) -> None:
    clock = ledger.now
    try:
        result = build(loaded, period, now=clock())
    except GateFailure as held:
        hold_run(loaded, period, run_id, held, ledger=ledger, send=send, smtp=smtp,
              clock=clock, sleep=sleep, environ=environ)
        return
    except Exception as exc:  # recorded, not raised: the ledger is the report of record
        record_failure(ledger, run_id, exc, "build")
        return
    # a number already sent reads differently now: the report says so
    result = replace(result, model=with_restatements(
        result.model, sent_numbers(ledger, loaded.definition.id, period.key)))
    if result.model.restatements:  # the model was checked when built; its new sentences now
        enforce_claims(result.model)
    folder = run_folder(out_dir, loaded.definition.id, period.key, run_id)
    publish_run(loaded, period, result, run_id, lambda: render(loaded, result, folder),
             ledger=ledger, send=send, smtp=smtp, sleep=sleep, environ=environ,
             on_unknown=on_unknown, lock=lock, public_url=public_url)


def run_fanout(loaded: LoadedDefinition, period: Period, *, trigger: Trigger, ledger: Ledger,
               out_dir: Path, send: bool, smtp: SmtpSettings | None,
               domains: Sequence[str] = (), jobs: int | None = None,
               now: Callable[[], datetime] | None = None,
               sleep: Callable[[float], None] = time.sleep,
               lock_ttl: timedelta = timedelta(hours=2),
               environ: Mapping[str, str] | None = None,
               on_unknown: UnknownOutcome = "hold",
               progress: Callable[[str, str], None] | None = None,
               public_url: str | None = None) -> RunRecord:
    """Run a fan-out definition for ``period``: one parent run, one child run per segment.

    The data is read once (``pipeline.build_fanout``); reports render in ``jobs`` processes;
    each segment is delivered under its own report id, so every (report, period, segment,
    recipient) is sent once however often the fan-out runs.  A failed segment does not stop
    the others: the parent ends 'partial' naming it, and the owner is alerted once.
    ``progress(segment, status)`` is told as each segment finishes.
    """
    from reportgen.render.pool import RenderPool, default_jobs
    from reportgen.run.build import build_fanout, render_outputs

    if now is not None:
        ledger = ledger.with_clock(now)
    definition = loaded.definition
    spec = definition.fan_out
    if spec is None:
        raise InputError(f"{definition.id}: run_fanout needs a definition with fan_out")
    tell = progress or (lambda segment, status: None)
    with ledger.locked(definition.id, period.key, ttl=lock_ttl) as lock:
        run_id = ledger.start_run(definition.id, period.key, trigger=trigger,
                                  definition_hash=loaded.hash, code_version=code_version())
        try:
            remove_stale_parts(out_dir)
            folder = run_folder(out_dir, definition.id, period.key, run_id)  # never overwritten
            # Reports render on the pool as soon as each is built, while the next is built.
            with RenderPool(render_outputs, folder, jobs or default_jobs()) as pool:
                # Each report (a segment's, the whole) names any number it already sent
                # for this period that now reads differently, before it is rendered.
                restated: dict[str, Any] = {}

                def submit(built_loaded: LoadedDefinition, result: Any) -> None:
                    report_id = built_loaded.definition.id
                    result = replace(result, model=with_restatements(
                        result.model, sent_numbers(ledger, report_id, period.key)))
                    restated[report_id] = result
                    pool.submit(built_loaded, result)

                try:
                    built = build_fanout(loaded, period, now=ledger.now(), domains=domains,
                                         on_built=submit)
                except GateFailure as held:
                    hold_run(loaded, period, run_id, held, ledger=ledger, send=send, smtp=smtp,
                          clock=ledger.now, sleep=sleep, environ=environ)
                    return ledger.get_run(run_id)
                except InputError as exc:  # an unreadable mapping file: nothing is sent
                    ledger.finish_run(run_id, "failed", error=str(exc))
                    raise
                except Exception as exc:
                    record_failure(ledger, run_id, exc, "build")
                    return ledger.get_run(run_id)
                outcomes = pool.results()
                rendering = time.perf_counter() - (pool.first_submit or time.perf_counter())
            made = [s for s in built.segments if s.result is not None]
            ledger.record_stages(run_id, [  # the report's run log: the fan-out's own stages
                {"stage": "data", "seconds": round(built.data_seconds, 3)},
                {"stage": "segments", "seconds": round(sum(s.seconds for s in made), 3)},
                {"stage": "render", "seconds": round(rendering, 3)}])
            names = [handed.definition.id for handed in pool.handed]
            rendered = dict(zip(names, outcomes, strict=True))
            logger.info("run #%d: data read once in %.1f s; %d segment(s) built from it in "
                        "%.1f s; %d report(s) drawn and rendered in %.1f s from the first one "
                        "built, on %s process(es): %s", run_id, built.data_seconds, len(made),
                        sum(s.seconds for s in made), len(names), rendering, pool.jobs,
                        ", ".join(f"{name} {r.seconds:.1f} s"
                                  for name, r in zip(names, outcomes, strict=True)))
            problems: list[str] = []
            for segment in built.segments:
                name, seg_id = segment.plan.segment.name, segment.loaded.definition.id
                child = ledger.start_run(seg_id, period.key, trigger=trigger,
                                         definition_hash=loaded.hash,
                                         code_version=code_version(), parent_id=run_id,
                                         segment=name)
                if segment.plan.refused:  # its recipients are wrong: the run is partial
                    ledger.finish_run(child, "skipped", error=segment.plan.refused)
                    problems.append(f"{name}: skipped ({segment.plan.refused})")
                elif segment.plan.skipped:
                    ledger.finish_run(child, "skipped", error=segment.plan.skipped)
                elif segment.result is None:
                    ledger.finish_run(child, "failed", error=segment.error)
                else:
                    with ledger.locked(seg_id, period.key, ttl=lock_ttl) as child_lock:
                        publish_run(segment.loaded, period, restated.get(seg_id,
                                                                         segment.result), child,
                                 rendered[seg_id].get, ledger=ledger, send=send, smtp=smtp,
                                 sleep=sleep, environ=environ, on_unknown=on_unknown,
                                 lock=child_lock, public_url=public_url)
                record = ledger.get_run(child)
                if record.status in ("failed", "partial"):
                    problems.append(f"{name}: {record.status} ({record.error})")
                tell(name, record.status)
            if spec.include_whole:
                publish_run(loaded, period, restated.get(definition.id, built.whole), run_id,
                         rendered[definition.id].get,
                         ledger=ledger, send=send, smtp=smtp, sleep=sleep, environ=environ,
                         on_unknown=on_unknown, lock=lock, public_url=public_url)
            else:
                ledger.finish_run(run_id, "succeeded", input_hashes=built.whole.input_hashes)
            whole = ledger.get_run(run_id)
            if problems and whole.status in ("succeeded", "partial"):
                errors = [e for e in (whole.error, *problems) if e]
                ledger.finish_run(run_id, "partial",
                                  error=f"{len(problems)} segment(s) not delivered: "
                                        + "; ".join(errors))
        except BaseException as exc:
            if ledger.get_run(run_id).status == "running":
                ledger.finish_run(run_id, "interrupted",
                                  error=f"interrupted ({type(exc).__name__})")
            raise
        record = ledger.get_run(run_id)
        if send and record.status in ("failed", "partial"):
            alert_failure(loaded, period, record, ledger=ledger, smtp=smtp, environ=environ)
        return ledger.get_run(run_id)


def resend_run(run_id: int, to: str | None = None, *, ledger: Ledger, smtp: SmtpSettings,
               sleep: Callable[[float], None] = time.sleep,
               now: Callable[[], datetime] | None = None,
               environ: Mapping[str, str] | None = None, test: bool = False
               ) -> DeliveryReport:
    """Send a succeeded run's files again, on purpose, to ``to`` or to its recipients.

    Bypasses the exactly-once check and records new delivery rows (purpose 'resend').
    ``test`` (only with ``to``) marks it a test: "[TEST]" in the subject, a banner in the body.
    """
    if test and to is None:
        raise DeliveryError(f"a test of run #{run_id} goes to one named address; none was given")
    run = ledger.get_run(run_id)
    # a run waiting for approval may go to one named person (a test), never to its recipients
    sendable = ("succeeded", "partial", *(("pending_approval",) if to else ()))
    if run.status not in sendable or not run.summary:
        raise DeliveryError(f"run #{run_id} ({run.report_id} {run.period}) is {run.status}; "
                            f"only a succeeded or partial run can be resent")
    content = MailContent.from_json(run.summary["mail"])
    if test:
        content = replace(content, test=True)
    raw_spec: dict[str, Any] | None = run.summary.get("email")
    try:
        spec = EmailSpec.model_validate(raw_spec) if raw_spec else None
        if to is not None:
            EmailSpec(to=[to])  # the same address check a definition gets
    except ValidationError as exc:
        raise InputError(f"resend of run #{run_id}: {exc.errors()[0]['msg']}") from None
    if spec is None:
        if to is None:
            raise DeliveryError(f"run #{run_id} had no delivery.email recipients; "
                                f"name one with --to")
        spec = EmailSpec(to=[to])
    check_not_pruned(run, spec.attach)
    artifacts = [a.to_artifact() for a in run.artifacts]
    return deliver_email(content, artifacts, spec, smtp, ledger=ledger, run_id=run_id,
                         resend_to=[to] if to else None, resend=True, sleep=sleep,
                         now=now or ledger.now, environ=environ)
