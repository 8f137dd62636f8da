"""The pages and actions of one run: its page (with a fan-out's segments), a test send,
approve or reject, and downloads of its files."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from itsdangerous import BadSignature
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reportgen.delivery.content import MailContent
from reportgen.errors import ReportgenError
from reportgen.ledger.pruning import check_not_pruned, pruned_note
from reportgen.ledger.store import Ledger, RunLocked
from reportgen.run.approvals import may_approve
from reportgen.web.auth import check_csrf
from reportgen.web.auth import require as require_role
from reportgen.web.common import (
    back_to,
    entry_of_run,
    render,
    run_files,
    run_for,
    web_config,
)
from reportgen.web.store import WebStore


async def run_page(request: Request) -> Response:
    require_role(request, "viewer")
    ledger: Ledger = request.app.state.ledger
    run = run_for(request, request.path_params["run_id"])
    parent = run_for(request, run.parent_id) if run.parent_id is not None else None
    entry = entry_of_run(request, run)
    children = ledger.children_of(run.id)
    decisions = request.app.state.store.approvals_of([run.id, *(c.id for c in children)])
    segment_of = {c.id: c.segment for c in children}
    return render(request, "run.html", run=run, parent=parent, entry=entry,
                   children=children, files=run_files(request, [run, *children]),
                   decisions=decisions, pruned=pruned_note, segment_of=segment_of)


async def test_send(request: Request) -> Response:
    from reportgen.run.runner import resend_run

    user = require_role(request, "analyst")
    await check_csrf(request)
    run = run_for(request, request.path_params["run_id"])
    smtp = web_config(request).settings.smtp
    store: WebStore = request.app.state.store
    if smtp is None:
        raise HTTPException(409, "the settings have no 'smtp' section; nothing can be sent")
    try:
        report = await run_in_threadpool(resend_run, run.id, user.email,
                                         ledger=request.app.state.ledger, smtp=smtp)
    except ReportgenError as exc:
        store.record(user, "test-send", f"run {run.id}", "failed", str(exc))
        raise HTTPException(409, str(exc)) from None
    outcome = "sent" if not report.failed else "failed"
    store.record(user, "test-send", f"run {run.id}", outcome, user.email)
    return RedirectResponse(back_to(run, "?sent=test"), status_code=303)


async def approve(request: Request) -> Response:
    from reportgen.definition.models import EmailSpec
    from reportgen.delivery.channels import deliver_chats, run_link
    from reportgen.delivery.email import DeliveryReport, deliver_email

    user = require_role(request, "approver")
    await check_csrf(request)
    run = run_for(request, request.path_params["run_id"])
    store: WebStore = request.app.state.store
    config = web_config(request)
    if run.status not in ("succeeded", "partial", "pending_approval") or not run.summary:
        raise HTTPException(409, f"run #{run.id} is {run.status}; only a finished run can be "
                                 f"approved")
    raw = run.summary.get("email")
    if not raw:
        raise HTTPException(409, f"run #{run.id} has no e-mail recipients to send to")
    if config.settings.smtp is None:
        raise HTTPException(409, "the settings have no 'smtp' section; nothing can be sent")
    entry = entry_of_run(request, run)
    if not may_approve(entry.loaded.definition if entry and entry.loaded else None, user.email):
        store.record(user, "approve", f"run {run.id}", "refused", "not among the approvers")
        raise HTTPException(403, f"{run.report_id} names its approvers and {user.email} is "
                                 f"not one of them")
    spec = EmailSpec.model_validate(raw)
    try:
        check_not_pruned(run, spec.attach)
    except ReportgenError as exc:
        store.record(user, "approve", f"run {run.id}", "refused", str(exc))
        raise HTTPException(410, str(exc)) from None
    ledger: Ledger = request.app.state.ledger
    definition = entry.loaded.definition if entry and entry.loaded else None
    mail = MailContent.from_json(run.summary["mail"])
    artifacts = [a.to_artifact() for a in run.artifacts]
    smtp = config.settings.smtp

    def send() -> tuple[DeliveryReport, DeliveryReport]:
        # Under the report and period's run lock, as a run's own delivery is: an approval
        # never sends beside a run of the same period (the ledger keeps each recipient to
        # one send either way).
        with ledger.locked(run.report_id, run.period,
                           ttl=timedelta(minutes=config.settings.lock_minutes)):
            mail_report = deliver_email(mail, artifacts, spec, smtp, ledger=ledger,
                                        run_id=run.id, now=config.now)
            chat_report = deliver_chats(mail, artifacts,
                                        definition.delivery if definition else None,
                                        ledger=ledger, run_id=run.id,
                                        link=run_link(config.settings.web.public_url, run.id))
        return mail_report, chat_report

    # The approval is recorded only once its sends are in the ledger: a failure before that
    # leaves the run waiting, with the error on it and on the page.  SMTP and the lock are
    # waited for on a worker thread, never on the page's event loop.
    try:
        report, chats = await run_in_threadpool(send)
    except RunLocked as exc:
        store.record(user, "approve", f"run {run.id}", "refused", str(exc))
        raise HTTPException(409, f"run #{run.id} was not approved: {run.report_id} "
                                 f"{run.period} is being run right now; approve it again "
                                 f"when that run has finished") from None
    except Exception as exc:
        problem = f"approval by {user.name} not sent: {type(exc).__name__}: {exc}" \
            if not isinstance(exc, ReportgenError) else f"approval by {user.name} not sent: {exc}"
        if run.status == "pending_approval":
            ledger.finish_run(run.id, "pending_approval", error=problem)
        store.record(user, "approve", f"run {run.id}", "failed", problem)
        raise HTTPException(409, f"run #{run.id} was not approved and still waits: "
                                 f"{problem}") from None
    store.decide(run.id, "approved", user, None)
    report = DeliveryReport(report.outcomes + chats.outcomes)
    problems = [f"{o.recipient} ({o.status}: {o.error})"
                for o in report.failed + report.unconfirmed]
    if run.status == "pending_approval":  # the waiting run ends as its delivery went
        reached = len(report.outcomes) - len(report.failed)
        ledger.finish_run(
            run.id, "succeeded" if not problems else "partial" if reached else "failed",
            error="not delivered to " + "; ".join(problems) if problems else None)
    store.record(user, "approve", f"run {run.id}", "sent" if not problems else "partial",
                 ", ".join(f"{o.recipient}: {o.status}" for o in report.outcomes))
    return RedirectResponse(back_to(run), status_code=303)


async def reject(request: Request) -> Response:
    user = require_role(request, "approver")
    form = await check_csrf(request)
    run = run_for(request, request.path_params["run_id"])
    reason = form.get("reason", "").strip()
    if not reason:
        raise HTTPException(400, "a rejection needs a reason (what should change)")
    entry = entry_of_run(request, run)
    if not may_approve(entry.loaded.definition if entry and entry.loaded else None, user.email):
        request.app.state.store.record(user, "reject", f"run {run.id}", "refused",
                                       "not among the approvers")
        raise HTTPException(403, f"{run.report_id} names its approvers and {user.email} is "
                                 f"not one of them")
    request.app.state.store.decide(run.id, "rejected", user, reason[:2000])
    if run.status == "pending_approval":  # it will never be sent; a new run replaces it
        request.app.state.ledger.finish_run(run.id, "rejected", error=f"rejected by "
                                            f"{user.name}: {reason[:2000]}")
    request.app.state.store.record(user, "reject", f"run {run.id}", "ok", reason[:2000])
    return RedirectResponse(back_to(run), status_code=303)


async def download(request: Request) -> Response:
    user = require_role(request, "viewer")
    try:
        run_id, index = request.app.state.files.loads(request.path_params["token"])
    except BadSignature:
        raise HTTPException(404, "no such file") from None
    run = run_for(request, int(run_id))
    artifact = run.artifacts[int(index)]
    store: WebStore = request.app.state.store
    if artifact.pruned_at is not None:
        store.record(user, "download", artifact.path, "pruned")
        raise HTTPException(410, f"{Path(artifact.path).name} of run #{run.id} was "
                                 f"{pruned_note([artifact])} by the retention setting; "
                                 f"regenerate {run.period} to make it again")
    try:
        data = Path(artifact.path).read_bytes()
    except OSError:
        store.record(user, "download", artifact.path, "missing")
        raise HTTPException(410, f"{Path(artifact.path).name} of run #{run.id} is no longer "
                                 f"on disk") from None
    if hashlib.sha256(data).hexdigest() != artifact.sha256:
        store.record(user, "download", artifact.path, "changed")
        raise HTTPException(409, f"{Path(artifact.path).name} changed after run #{run.id} "
                                 f"wrote it; it is not served")
    store.record(user, "download", artifact.path, "ok")
    name = Path(artifact.path).name
    return Response(data, media_type=_MEDIA.get(artifact.format, "application/octet-stream"),
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


_MEDIA = {"pdf": "application/pdf", "html": "text/html",
          "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
