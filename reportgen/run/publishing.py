"""Publishing a built run: its numbers recorded, a check that its sources did not change while
it was built, restatements named, and delivery on every channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reportgen.definition.delivery_specs import EmailSpec
from reportgen.delivery.channels import (
    CHANNELS,
    DeliveryContext,
    deliver_channels,
    run_link,
    with_chat_outcomes,
)
from reportgen.delivery.content import MailContent
from reportgen.delivery.email import DeliveryReport, UnknownOutcome
from reportgen.ledger.records import RunStatus
from reportgen.ledger.store import Ledger, RunLock
from reportgen.period import Period
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.report_model import Artifact
from reportgen.report.restatement import SentNumbers
from reportgen.run import events
from reportgen.run.approvals import awaits_approval, request_approval
from reportgen.run.failures import record_failure
from reportgen.settings import SmtpSettings

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition
    from reportgen.run.build import BuildResult

logger = logging.getLogger(__name__)


def publish_run(loaded: LoadedDefinition, period: Period, result: BuildResult, run_id: int,
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
                             environ=environ, public_url=public_url, content=content)
        elif send:
            with events.stage("delivery"):
                status, error = _deliver(content, artifacts, spec, smtp, ledger=ledger,
                                         run_id=run_id, clock=clock, sleep=sleep,
                                         environ=environ, on_unknown=on_unknown, lock=lock)
                others = DeliveryContext(ledger, run_id, link, environ, sleep, smtp, clock,
                                         before_send=lock.check)
                chats = deliver_channels(content, artifacts, definition.delivery, others,
                                         skip=("email",))
            status, error = with_chat_outcomes(  # type: ignore[assignment]
                status, error, chats,
                emailed=spec is not None and status in ("succeeded", "partial"))
    except Exception as exc:
        record_failure(ledger, run_id, exc, "render/deliver", input_hashes=result.input_hashes)
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
