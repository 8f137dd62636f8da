"""The pages and actions of one run: its page (with a fan-out's segments), a test send,
a rejection, and downloads of its files (sending and approving are in ``sending``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from reportgen.errors import ReportgenError
from reportgen.ledger.pruning import pruned_note
from reportgen.ledger.records import RunRecord
from reportgen.ledger.store import Ledger
from reportgen.run.approvals import may_approve, notify_rejection
from reportgen.web.auth import check_csrf
from reportgen.web.auth import require as require_role
from reportgen.web.catalog import Entry
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
    def test_now() -> Any:
        with request.app.state.jobs.recorded("test-send", run.report_id, run.period,
                                             user.name) as job:
            sent = resend_run(run.id, user.email, ledger=request.app.state.ledger, smtp=smtp,
                              test=True)
            job.result(run_id=run.id, run_status=run.status,
                       error=f"not sent: {sent.failed[0].error}" if sent.failed else None)
            return sent

    try:
        report = await run_in_threadpool(test_now)
    except ReportgenError as exc:
        store.record(user, "test-send", f"run {run.id}", "failed", str(exc))
        raise HTTPException(409, str(exc)) from None
    outcome = "sent" if not report.failed else "failed"
    store.record(user, "test-send", f"run {run.id}", outcome, user.email)
    request.session["notice"] = (f"Test sent to {user.email} only, marked [TEST]; no recipient "
                                 f"received it." if not report.failed else
                                 f"The test to {user.email} was not sent: "
                                 f"{report.failed[0].error}")
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
    def tell() -> str:
        with request.app.state.jobs.recorded("reject", run.report_id, run.period,
                                             user.name) as job:
            job.result(run_id=run.id, run_status="rejected")
            return _tell_owner(request, run, entry, reason[:2000], user.name)

    told = await run_in_threadpool(tell)
    request.app.state.store.record(user, "reject", f"run {run.id}", "ok", reason[:2000])
    request.session["notice"] = f"Run #{run.id} rejected. " + told
    return RedirectResponse(back_to(run), status_code=303)


def _tell_owner(request: Request, run: RunRecord, entry: Entry | None, reason: str,
                rejected_by: str) -> str:
    """E-mail the report's owner the rejection and its reason; what the notice says of it."""
    config = web_config(request)
    definition = entry.loaded.definition if entry and entry.loaded else None
    if definition is None or config.settings.smtp is None:
        return "Its owner was not told (no definition or no SMTP settings)."
    try:
        if not notify_rejection(definition, run, reason, rejected_by,
                                ledger=request.app.state.ledger, smtp=config.settings.smtp,
                                now=config.now, public_url=config.settings.web.public_url):
            return "The report names no owner to tell."
    except ReportgenError as exc:
        return f"Telling its owner failed: {exc}"
    return f"Its owner {definition.owner} was e-mailed the reason."


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
