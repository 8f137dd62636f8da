"""One run of one report for one period: lock, record, build, render, deliver.

This is where the pure pipeline meets the world.  The order is what keeps promises to
readers: nothing is rendered or sent until every gate has passed, so leadership never
receives a report built on incomplete data; a held run is recorded with its reasons and a
retry time, and only its owner is told.  Every run, whatever its end, is in the ledger:
succeeded, partial (some recipients not reached or unconfirmed), failed, held, or
interrupted (Ctrl-C or SIGTERM); the owner is alerted once for a failed or partial one.
"""

from __future__ import annotations

import importlib
import logging
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from reportgen import secrets
from reportgen.definition.delivery_specs import EmailSpec
from reportgen.definition.schedule_specs import RetrySpec
from reportgen.delivery.alerts import (
    NO_CHANNEL,
    AlertKind,
    OwnerAlert,
    alert_owner,
    owner_channels,
    record_outcome,
)
from reportgen.delivery.channels import (
    CHANNELS,
    DeliveryContext,
    deliver_channels,
    run_link,
    with_chat_outcomes,
)
from reportgen.delivery.content import MailContent
from reportgen.delivery.email import DeliveryReport, UnknownOutcome, deliver_email, send_notice
from reportgen.errors import DeliveryError, GateFailure, InputError
from reportgen.ledger.pruning import check_not_pruned
from reportgen.ledger.store import Ledger, RunLock, RunRecord, RunStatus, Trigger
from reportgen.period import Period
from reportgen.render.files import remove_stale_parts, run_folder
from reportgen.report.model import Artifact, MetricResult
from reportgen.report.restatement import SentNumbers, restatements
from reportgen.run.approvals import awaits_approval, request_approval
from reportgen.settings import SmtpSettings
from reportgen.text.dates import timestamp

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition
    from reportgen.run.build import BuildResult

logger = logging.getLogger(__name__)

BuildFn = Callable[..., "BuildResult"]
RenderFn = Callable[["LoadedDefinition", "BuildResult", Path], list[Artifact]]
LoadFn = Callable[[Path], "LoadedDefinition"]

HOLD_NOTICE = "hold-notice"  # ledger channel: the owner hears about a held period once
HOLD_DEADLINE = "hold-deadline"  # ... and once more when retries give up


@dataclass(frozen=True)
class Pipeline:
    """The three pipeline entry points a run calls (replaceable by a plugin module)."""

    load: LoadFn
    build: BuildFn
    render: RenderFn


def resolve_loader(module: str | None = None) -> LoadFn:
    """``load_definition`` from ``module`` if it has one, else reportgen's own."""
    custom = importlib.import_module(module) if module else None
    loader: LoadFn | None = getattr(custom, "load_definition", None)
    if loader is None:
        from reportgen.plan import load_definition

        return load_definition
    return loader


def resolve_pipeline(module: str | None = None) -> Pipeline:
    """reportgen's own pipeline, or the one in ``module`` (names it lacks fall back to ours).

    Imported on use, so scheduling and the ledger work without the rendering stack loaded.
    """
    custom = importlib.import_module(module) if module else None
    build = getattr(custom, "build_report", None)
    render = getattr(custom, "render_outputs", None)
    if build is None or render is None:
        from reportgen.run import build as builtin

        build = build or builtin.build_report
        render = render or builtin.render_outputs
    return Pipeline(load=resolve_loader(module), build=build, render=render)


def code_version() -> str:
    """The running reportgen version (recorded with every run)."""
    import reportgen

    version = getattr(reportgen, "__version__", None)
    if version:
        return str(version)
    try:
        return metadata.version("reportgen")
    except metadata.PackageNotFoundError:
        return "unknown"


def next_retry_at(retry: RetrySpec, *, attempt: int, first_started: datetime,
                  now: datetime) -> datetime | None:
    """When to try a held run again, or None once the deadline has passed.

    Waits grow from ``every_minutes`` by ``backoff`` per attempt up to ``max_wait_minutes``;
    the last try is made at the deadline itself rather than skipped.
    """
    deadline = first_started + timedelta(hours=retry.deadline_hours)
    if now >= deadline:
        return None
    wait = min(retry.every_minutes * retry.backoff ** max(attempt - 1, 0),
               retry.max_wait_minutes)
    return min(now + timedelta(minutes=wait), deadline)


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
            _run_locked(loaded, period, run_id, ledger=ledger, out_dir=out_dir, send=send,
                        smtp=smtp, build=build, render=render, sleep=sleep, environ=environ,
                        on_unknown=on_unknown, lock=lock, public_url=public_url)
        except BaseException as exc:  # Ctrl-C, SIGTERM or exit: not left 'running'
            ledger.finish_run(run_id, "interrupted", error=f"interrupted ({type(exc).__name__})")
            raise
        record = ledger.get_run(run_id)
        if send and record.status in ("failed", "partial"):
            _alert_failure(loaded, period, record, ledger=ledger, smtp=smtp, environ=environ)
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
        _hold(loaded, period, run_id, held, ledger=ledger, send=send, smtp=smtp,
              clock=clock, sleep=sleep, environ=environ)
        return
    except Exception as exc:  # recorded, not raised: the ledger is the report of record
        _fail(ledger, run_id, exc, "build")
        return
    notes = restatements(result.model, sent_numbers(ledger, loaded.definition.id, period.key))
    if notes:  # a number already sent reads differently now: the report says so
        result = replace(result, model=replace(result.model, restatements=notes))
    folder = run_folder(out_dir, loaded.definition.id, period.key, run_id)
    _publish(loaded, period, result, run_id, lambda: render(loaded, result, folder),
             ledger=ledger, send=send, smtp=smtp, sleep=sleep, environ=environ,
             on_unknown=on_unknown, lock=lock, public_url=public_url)


def _publish(loaded: LoadedDefinition, period: Period, result: BuildResult, run_id: int,
             rendered: Callable[[], list[Artifact]], *, ledger: Ledger, send: bool,
             smtp: SmtpSettings | None, sleep: Callable[[float], None],
             environ: Mapping[str, str] | None, on_unknown: UnknownOutcome,
             lock: RunLock, public_url: str | None = None) -> None:
    """Record a built report's files and deliver them (after approval, when the definition
    asks for it); finishes the run either way."""
    definition = loaded.definition
    clock = ledger.now
    try:
        artifacts = rendered()
        ledger.record_artifacts(run_id, artifacts)
        link = run_link(public_url, run_id)
        content = replace(MailContent.from_model(result.model), link=link or "")
        spec = definition.delivery.email if definition.delivery else None
        ledger.record_summary(run_id, {
            "mail": content.to_json(),
            "email": spec.model_dump(mode="json") if spec else None,
            "data_quality": list(result.model.provenance.data_quality),
            "data_fingerprints": dict(getattr(result, "data_fingerprints", None) or {}),
            "metrics": [metric_record(m) for m in result.model.metrics.values()],
            "row_counts": dict(result.model.provenance.row_counts),
            "as_of": result.model.generated_at.isoformat(),
        })
        status: RunStatus = "succeeded"
        error = None
        if send:
            stale = _changed_since_build(loaded, period, result)
            if stale:
                ledger.finish_run(run_id, "failed", error=stale,
                                  input_hashes=result.input_hashes)
                logger.error("run #%d: %s", run_id, stale)
                return
        if send and awaits_approval(definition):
            status, error = "pending_approval", None
            request_approval(loaded, period, run_id, ledger=ledger, smtp=smtp, now=clock,
                             environ=environ, public_url=public_url)
        elif send:
            status, error = _deliver(content, artifacts, spec, smtp, ledger=ledger,
                                     run_id=run_id, clock=clock, sleep=sleep, environ=environ,
                                     on_unknown=on_unknown, lock=lock)
            others = DeliveryContext(ledger, run_id, link, environ, sleep, smtp, clock,
                                     before_send=lock.check)
            chats = deliver_channels(content, artifacts, definition.delivery, others,
                                     skip=("email",))
            status, error = with_chat_outcomes(  # type: ignore[assignment]
                status, error, chats,
                emailed=spec is not None and status in ("succeeded", "partial"))
    except Exception as exc:
        _fail(ledger, run_id, exc, "render/deliver", input_hashes=result.input_hashes)
        return
    ledger.finish_run(run_id, status, error=error, input_hashes=result.input_hashes)
    logger.info("run #%d: %s", run_id, f"{status}: {error}" if error else status)


def metric_record(result: MetricResult) -> dict[str, Any]:
    """A metric's numbers as the run record keeps them (``run --json``, restatements)."""
    interval = result.interval
    return {"id": result.metric_id, "label": result.label, "unit": result.unit,
            "value": result.value, "n": result.n,
            "interval": [interval.low, interval.high] if interval is not None else None,
            "target": result.target, "status": result.status,
            "previous": result.previous, "delta": result.delta,
            "significant": result.significant, "suppressed": result.suppressed}


def sent_numbers(ledger: Ledger, report_id: str, period_key: str) -> SentNumbers | None:
    """What the latest run of this report and period that reached a recipient told them."""
    for run in ledger.history(report_id, children=True):
        if run.period != period_key or not run.summary or "metrics" not in run.summary:
            continue
        sent = [d.updated_at for d in run.deliveries
                if d.status == "sent" and d.purpose == "delivery"]
        if sent:
            return SentNumbers(run.id, min(sent), {m["id"]: m for m in run.summary["metrics"]},
                               run.summary.get("row_counts") or {})
    return None


def _changed_since_build(loaded: LoadedDefinition, period: Period,
                         result: BuildResult) -> str | None:
    """Why the built report must not be sent: a source's data changed after it was read."""
    from reportgen.run.build import changed_sources, current_fingerprints

    before = getattr(result, "data_fingerprints", None)  # a plugin pipeline may not tell
    if not before:
        return None
    changed = changed_sources(before, current_fingerprints(loaded, period))
    if not changed:
        return None
    return (f"the data of {', '.join(repr(c) for c in changed)} changed after the report was "
            f"built, so its numbers may no longer be true; nothing was sent. Run it again.")


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
                try:
                    built = build_fanout(loaded, period, now=ledger.now(), domains=domains,
                                         on_built=pool.submit)
                except GateFailure as held:
                    _hold(loaded, period, run_id, held, ledger=ledger, send=send, smtp=smtp,
                          clock=ledger.now, sleep=sleep, environ=environ)
                    return ledger.get_run(run_id)
                except InputError as exc:  # an unreadable mapping file: nothing is sent
                    ledger.finish_run(run_id, "failed", error=str(exc))
                    raise
                except Exception as exc:
                    _fail(ledger, run_id, exc, "build")
                    return ledger.get_run(run_id)
                outcomes = pool.results()
                rendering = time.perf_counter() - (pool.first_submit or time.perf_counter())
            names = [handed.definition.id for handed in pool.handed]
            rendered = dict(zip(names, outcomes, strict=True))
            made = [s for s in built.segments if s.result is not None]
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
                        _publish(segment.loaded, period, segment.result, child,
                                 rendered[seg_id].get, ledger=ledger, send=send, smtp=smtp,
                                 sleep=sleep, environ=environ, on_unknown=on_unknown,
                                 lock=child_lock, public_url=public_url)
                record = ledger.get_run(child)
                if record.status in ("failed", "partial"):
                    problems.append(f"{name}: {record.status} ({record.error})")
                tell(name, record.status)
            if spec.include_whole:
                _publish(loaded, period, built.whole, run_id, rendered[definition.id].get,
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
            _alert_failure(loaded, period, record, ledger=ledger, smtp=smtp, environ=environ)
        return ledger.get_run(run_id)


def _deliver(content: MailContent, artifacts: list[Artifact], spec: EmailSpec | None,
             smtp: SmtpSettings | None, *, ledger: Ledger, run_id: int,
             clock: Callable[[], datetime], sleep: Callable[[float], None],
             environ: Mapping[str, str] | None, on_unknown: UnknownOutcome,
             lock: RunLock) -> tuple[RunStatus, str | None]:
    """Deliver through the e-mail channel; the run's status and the error to record with it.

    'failed' when no recipient was reached, 'partial' when some were and others failed
    or are unconfirmed: a partly delivered report is never recorded as a success.
    """
    if spec is None:
        logger.info("run #%d: the definition has no delivery.email; nothing to send", run_id)
        return "succeeded", None
    if smtp is None:
        return "failed", "sending was asked for but the settings have no 'smtp' section"
    context = DeliveryContext(ledger, run_id, environ=environ, sleep=sleep, smtp=smtp,
                              now=clock, on_unknown=on_unknown, before_send=lock.check)
    report = DeliveryReport(tuple(CHANNELS.instance("email").deliver(content, artifacts, spec,
                                                                     context)))
    problems = [f"{o.recipient} ({o.status}: {o.error})"
                for o in report.failed + report.unconfirmed]
    if not problems:
        return "succeeded", None
    reached = len(report.outcomes) - len(report.failed)
    status: RunStatus = "partial" if reached else "failed"
    return status, "not delivered to " + "; ".join(problems)


def _alert_failure(loaded: LoadedDefinition, period: Period, record: RunRecord, *,
                   ledger: Ledger, smtp: SmtpSettings | None,
                   environ: Mapping[str, str] | None) -> None:
    """Tell the owner, once per report, period and kind, that this run failed or went out
    only in part, and what to do about it."""
    definition = loaded.definition
    if not definition.owner:
        logger.warning("run #%d %s: %s, and the definition names no owner to alert",
                       record.id, definition.id, record.status)
        return
    channels = owner_channels(smtp, now=ledger.now, environ=environ)
    kind: AlertKind = "partial" if record.status == "partial" else "failed"
    lines = [f"Run #{record.id} of the {definition.title} for {period.label} "
             + ("reached only some of its recipients." if kind == "partial"
                else "failed; the report was not delivered.")]
    lines.append(f"\nWhat happened: {record.error}")
    unconfirmed = [d.recipient for d in record.deliveries if d.status == "unconfirmed"]
    if unconfirmed:
        lines.append(
            f"\nUnconfirmed: {', '.join(unconfirmed)}. An earlier run stopped while the mail "
            f"server was taking the message, so it may already have arrived. Check with the "
            f"recipient or the server's log, then run it again with '--confirm-unknown sent' "
            f"(it arrived: record it) or '--confirm-unknown resend' (send again with the same "
            f"Message-ID).")
    lines.append(f"\nRecipients already reached are not sent the report again. See "
                 f"'reportgen history {definition.id}'; fix the cause and run "
                 f"'reportgen run --period {period.key} --send' again.")
    alert = OwnerAlert(kind=kind, report_id=definition.id, period=period.key,
                       subject=f"[{kind}] {definition.title} — {period.label}",
                       text="\n".join(lines) + "\n", run_id=record.id)
    alert_owner(alert, definition.owner, channels, ledger=ledger)


def _fail(ledger: Ledger, run_id: int, exc: Exception, stage: str,
          input_hashes: Mapping[str, str] | None = None) -> None:
    message = secrets.redact(f"{type(exc).__name__}: {exc}")
    ledger.finish_run(run_id, "failed", error=message, input_hashes=input_hashes)
    logger.error("run #%d failed in %s: %s", run_id, stage, message)
    # The traceback may quote values from data or settings, so it is redacted too.
    logger.debug("run #%d traceback:\n%s", run_id, secrets.redact(traceback.format_exc()))


def _hold(loaded: LoadedDefinition, period: Period, run_id: int, held: GateFailure, *,
          ledger: Ledger, send: bool, smtp: SmtpSettings | None,
          clock: Callable[[], datetime], sleep: Callable[[float], None],
          environ: Mapping[str, str] | None) -> None:
    definition = loaded.definition
    run = ledger.get_run(run_id)
    first = ledger.first_started(definition.id, period.key) or run.started_at
    retry = definition.schedule.retry if definition.schedule else RetrySpec()
    retry_at = next_retry_at(retry, attempt=run.attempt, first_started=first, now=clock())
    reasons = "; ".join(held.reasons)
    ledger.finish_run(run_id, "held", error=reasons, next_retry_at=retry_at)
    logger.warning("run #%d: %s %s held by gates: %s; %s", run_id, definition.id, period.key,
                   reasons, f"retry at {retry_at:%Y-%m-%d %H:%M} UTC" if retry_at
                   else "retry deadline passed, giving up")
    notify = definition.delivery.notify_owner_on_hold if definition.delivery else True
    if not (send and notify and definition.owner):
        return
    subject, text, kind = _hold_notice(definition.title, period, held.reasons, retry_at)
    owner = definition.owner

    def record(error: str | None = None, message_id: str | None = None) -> None:
        record_outcome(ledger, definition.id, period.key, kind, owner, run_id, error=error,
                       message_id=message_id)

    if smtp is None:
        record(NO_CHANNEL)
        return
    try:
        report = send_notice(owner, subject, text, smtp, ledger=ledger, run_id=run_id,
                             report_id=definition.id, period=period.key, kind=kind,
                             sleep=sleep, now=clock, environ=environ)
    except Exception as exc:  # a failed notice must not turn a hold into a failure
        record(secrets.redact(f"{type(exc).__name__}: {exc}"))
        return
    unsent = report.failed + report.unconfirmed
    if unsent:
        record("; ".join(f"{o.status}: {o.error}" for o in unsent))
    elif report.sent:
        record(message_id=report.sent[0].message_id)


def _hold_notice(title: str, period: Period, reasons: tuple[str, ...],
                 retry_at: datetime | None) -> tuple[str, str, str]:
    lines = "\n".join(f"- {r}" for r in reasons)
    if retry_at is None:
        return (f"[held, gave up] {title} — {period.label}",
                f"The {title} for {period.label} was not sent: its data did not pass the "
                f"quality gates before the retry deadline.\n\n{lines}\n\nNothing was sent "
                f"to recipients. Fix the data and run it again with 'reportgen run --send'.\n",
                HOLD_DEADLINE)
    return (f"[held] {title} — {period.label}",
            f"The {title} for {period.label} is on hold: its data did not pass the quality "
            f"gates.\n\n{lines}\n\nNothing was sent to recipients. It will be tried again "
            f"at {timestamp(retry_at, period.timezone)}, and sent once the data is complete.\n",
            HOLD_NOTICE)


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
