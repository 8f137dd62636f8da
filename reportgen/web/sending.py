"""Sending a finished run from the page: a confirmation that names every recipient and
channel first, then the send (a plain "Send", or "Approve" for a run that awaits approval),
then a notice of how it went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reportgen.delivery.content import MailContent
from reportgen.errors import ReportgenError
from reportgen.ledger.pruning import check_not_pruned
from reportgen.ledger.records import RunRecord
from reportgen.ledger.store import Ledger, RunLocked
from reportgen.run.approvals import awaits_approval, may_approve
from reportgen.web.auth import check_csrf
from reportgen.web.auth import require as require_role
from reportgen.web.common import (
    back_to,
    entry_of_run,
    file_url,
    render,
    run_for,
    web_config,
)
from reportgen.web.store import User, WebStore

SENDABLE = ("succeeded", "partial", "pending_approval")


@dataclass(frozen=True)
class Recipients:
    """Who a run would go to: e-mail addresses by role, and each chat channel."""

    email: list[tuple[str, list[str]]]
    chats: list[tuple[str, str]]

    @property
    def count(self) -> int:
        return sum(len(a) for _, a in self.email) + len(self.chats)


def recipients_of(run: RunRecord, definition: Any) -> Recipients:
    """The e-mail recipients recorded with ``run`` and the chat channels of its definition."""
    raw = (run.summary or {}).get("email") or {}
    email = [(role, list(raw.get(role) or [])) for role in ("to", "cc", "bcc")]
    chats: list[tuple[str, str]] = []
    if definition is not None and definition.delivery is not None:
        for name, options in definition.delivery.channels():
            if name == "email":
                continue
            where = getattr(options, "channel", None) or getattr(options, "webhook_env", None)
            chats.append((name, f"channel {where}" if getattr(options, "channel", None)
                          else f"the webhook in ${where}" if where else "its configured target"))
    return Recipients([(r, a) for r, a in email if a], chats)


def delivered(run: RunRecord) -> bool:
    return any(d.purpose == "delivery" and d.status == "sent" for d in run.deliveries)


def needs_approval(run: RunRecord, definition: Any) -> bool:
    """Whether sending ``run`` is an approval: it waits for one, or its report requires one."""
    return run.status == "pending_approval" or (definition is not None
                                                and awaits_approval(definition))


def _definition(request: Request, run: RunRecord) -> Any:
    entry = entry_of_run(request, run)
    return entry.loaded.definition if entry and entry.loaded else None


def _check_sendable(request: Request, run: RunRecord, user: User, definition: Any,
                    approving: bool) -> None:
    if run.status not in SENDABLE or not run.summary:
        raise HTTPException(409, f"run #{run.id} is {run.status}; only a finished run can be "
                                 f"sent")
    if not (run.summary or {}).get("email"):
        raise HTTPException(409, f"run #{run.id} has no e-mail recipients to send to")
    if web_config(request).settings.smtp is None:
        raise HTTPException(409, "the settings have no 'smtp' section; nothing can be sent")
    if approving and not may_approve(definition, user.email):
        request.app.state.store.record(user, "approve", f"run {run.id}", "refused",
                                       "not among the approvers")
        raise HTTPException(403, f"{run.report_id} names its approvers and {user.email} is "
                                 f"not one of them")


async def confirm_page(request: Request) -> Response:
    """What a send would do, before it is done: recipients, channels, segment."""
    user = require_role(request, "analyst")
    run = run_for(request, request.path_params["run_id"])
    definition = _definition(request, run)
    approving = needs_approval(run, definition)
    if approving:
        require_role(request, "approver")
    _check_sendable(request, run, user, definition, approving)
    files = [(run.artifacts[i], file_url(request, run, i)) for i in sent_files(run)]
    return render(request, "confirm.html", run=run, entry=entry_of_run(request, run),
                  approving=approving, recipients=recipients_of(run, definition),
                  already=delivered(run), back=back_to(run), files=files)


async def send(request: Request) -> Response:
    """A plain send of a run whose report needs no approval (analyst and up)."""
    user = require_role(request, "analyst")
    await check_csrf(request)
    run = run_for(request, request.path_params["run_id"])
    definition = _definition(request, run)
    if needs_approval(run, definition):
        raise HTTPException(409, f"run #{run.id} of {run.report_id} is sent by an approver's "
                                 f"approval; use Approve")
    _check_sendable(request, run, user, definition, approving=False)
    return await _deliver(request, run, user, definition, action="send")


async def approve(request: Request) -> Response:
    """Approve and send exactly the files the approver saw: the form carries their sha256,
    and a run whose files are no longer those (recorded or on disk) is refused."""
    user = require_role(request, "approver")
    form = await check_csrf(request)
    run = run_for(request, request.path_params["run_id"])
    definition = _definition(request, run)
    _check_sendable(request, run, user, definition, approving=True)
    problem = await run_in_threadpool(not_as_seen, run, form.get("sha256", ""))
    if problem is not None:
        request.app.state.store.record(user, "approve", f"run {run.id}", "refused", problem)
        raise HTTPException(409, f"Run #{run.id} was not approved and nothing was sent: "
                                 f"{problem}")
    return await _deliver(request, run, user, definition, action="approve")


def sent_files(run: RunRecord) -> list[int]:
    """The indexes of the run's files that go out: those its e-mail attaches, or every file
    when it attaches none (the message then points to the run, where they are)."""
    attach = ((run.summary or {}).get("email") or {}).get("attach")
    formats = ["pdf"] if attach is None else list(attach)
    chosen = [i for i, a in enumerate(run.artifacts) if a.format in formats]
    return chosen or list(range(len(run.artifacts)))


def not_as_seen(run: RunRecord, seen: str) -> str | None:
    """Why the run's files are not the ones whose sha256 the approver was shown (``seen``,
    comma-separated), or None when they are, as recorded and as on disk now."""
    import hashlib
    from pathlib import Path

    files = [run.artifacts[i] for i in sent_files(run)]
    if any(a.pruned_at is not None for a in files):
        return None  # nothing can be sent: the send says so in its own words
    if not seen.strip():
        return ("the approval does not say which file you looked at. Open the run's "
                "confirmation page, check the file it links, and approve from there.")
    if sorted(h.strip() for h in seen.split(",")) != sorted(a.sha256 for a in files):
        return ("its file is no longer the one you looked at (it was made again since). "
                "Open the confirmation page again and check the file it links now.")
    for artifact in files:
        try:
            data = Path(artifact.path).read_bytes()
        except OSError:
            continue  # a file that is gone cannot be sent: the send says so and the run waits
        if hashlib.sha256(data).hexdigest() != artifact.sha256:
            return (f"its {artifact.format} file changed on disk after you looked at it, so "
                    f"it is not the report you approved. Regenerate {run.period} and approve "
                    f"the new run.")
    return None


async def _deliver(request: Request, run: RunRecord, user: User, definition: Any, *,
                   action: str) -> Response:
    from reportgen.definition.delivery_specs import EmailSpec
    from reportgen.delivery.channels import deliver_chats, run_link
    from reportgen.delivery.email import DeliveryReport, deliver_email

    store: WebStore = request.app.state.store
    config = web_config(request)
    summary = run.summary or {}  # the caller checked it holds what was sent
    spec = EmailSpec.model_validate(summary["email"])
    try:
        check_not_pruned(run, spec.attach)
    except ReportgenError as exc:
        store.record(user, action, f"run {run.id}", "refused", str(exc))
        raise HTTPException(410, str(exc)) from None
    ledger: Ledger = request.app.state.ledger
    mail = MailContent.from_json(summary["mail"])
    artifacts = [a.to_artifact() for a in run.artifacts]
    smtp = config.settings.smtp
    assert smtp is not None

    def send_now() -> tuple[DeliveryReport, DeliveryReport]:
        # Under the report and period's run lock, as a run's own delivery is: a send from
        # the page never goes beside a run of the same period (the ledger keeps each
        # recipient to one send either way).  A ledger job, like a regeneration.
        with request.app.state.jobs.recorded(action, run.report_id, run.period,
                                             user.name) as job, \
                ledger.locked(run.report_id, run.period,
                              ttl=timedelta(minutes=config.settings.lock_minutes)):
            job.stage("delivery")
            mail_report = deliver_email(mail, artifacts, spec, smtp, ledger=ledger,
                                        run_id=run.id, now=config.now)
            chat_report = deliver_chats(mail, artifacts,
                                        definition.delivery if definition else None,
                                        ledger=ledger, run_id=run.id,
                                        link=run_link(config.settings.web.public_url, run.id))
            missed = [o.recipient for o in mail_report.failed + mail_report.unconfirmed
                      + chat_report.failed + chat_report.unconfirmed]
            job.result(run_id=run.id, run_status=run.status,
                       error="not delivered to " + ", ".join(missed) if missed else None)
        return mail_report, chat_report

    # An approval is recorded only once its sends are in the ledger: a failure before that
    # leaves the run waiting, with the error on it and on the page.  SMTP and the lock are
    # waited for on a worker thread, never on the page's event loop.
    try:
        report, chats = await run_in_threadpool(send_now)
    except RunLocked as exc:
        store.record(user, action, f"run {run.id}", "refused", str(exc))
        raise HTTPException(409, f"run #{run.id} was not sent: {run.report_id} {run.period} "
                                 f"is being run right now; try again when that run has "
                                 f"finished") from None
    except Exception as exc:
        problem = f"{action} by {user.name} not sent: {type(exc).__name__}: {exc}" \
            if not isinstance(exc, ReportgenError) else f"{action} by {user.name} not sent: {exc}"
        if run.status == "pending_approval":
            ledger.finish_run(run.id, "pending_approval", error=problem)
        store.record(user, action, f"run {run.id}", "failed", problem)
        raise HTTPException(409, f"run #{run.id} was not sent and still waits: "
                                 f"{problem}") from None
    if action == "approve":
        store.decide(run.id, "approved", user, None)
    report = DeliveryReport(report.outcomes + chats.outcomes)
    problems = [f"{o.recipient} ({o.status}: {o.error})"
                for o in report.failed + report.unconfirmed]
    if run.status == "pending_approval":  # the waiting run ends as its delivery went
        reached = len(report.outcomes) - len(report.failed)
        ledger.finish_run(
            run.id, "succeeded" if not problems else "partial" if reached else "failed",
            error="not delivered to " + "; ".join(problems) if problems else None)
    store.record(user, action, f"run {run.id}", "sent" if not problems else "partial",
                 ", ".join(f"{o.recipient}: {o.status}" for o in report.outcomes))
    sent = [o.recipient for o in report.outcomes if o.status == "sent"]
    done = "Approved and sent" if action == "approve" else "Sent"
    notice = (f"{done} run #{run.id} to {len(sent)} recipient{'s' if len(sent) != 1 else ''}"
              f"{': ' + ', '.join(sent) if sent else ''}.")
    if len(sent) < len(report.outcomes):
        notice += f" {len(report.outcomes) - len(sent)} already had it or were not reached."
    if problems:
        notice += " Not delivered to " + "; ".join(problems) + "."
    request.session["notice"] = notice
    return RedirectResponse(back_to(run), status_code=303)
