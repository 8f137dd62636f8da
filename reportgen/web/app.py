"""The quality team's web page (``reportgen serve``): reports, runs, previews, approvals.

Server-rendered Jinja2 pages on Starlette.  Every page needs a signed-in user; every form
carries a CSRF token; every action is written to the audit trail.  Runs, artifacts and
deliveries come from the run ledger and go through the same runner and delivery code as
the command line, so a page can never send a report twice to the same recipient.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from reportgen.approvals import alert_overdue_approvals, may_approve
from reportgen.delivery.content import MailContent
from reportgen.errors import ReportgenError
from reportgen.retention import check_not_pruned, prune_after_run, pruned_note
from reportgen.runs import Ledger, RunRecord, utc_now
from reportgen.settings import Settings
from reportgen.web.auth import CSRF_FIELD, SignInLimiter, check_csrf, csrf_token, current_user
from reportgen.web.auth import require as require_role
from reportgen.web.catalog import Entry, load_catalog
from reportgen.web.jobs import JobQueue
from reportgen.web.segments import families, known_segments, only_segment, segment_model
from reportgen.web.store import WebStore

APPROVAL_CHECK_SECONDS = 60
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@dataclass
class WebConfig:
    """What the page serves: a folder of definitions, the settings and the clock."""

    definitions: Path
    settings: Settings
    secret: str
    settings_path: Path | None = None
    secure_cookies: bool = True
    now: Callable[[], datetime] = utc_now
    _previews: dict[tuple[str, str, str], Any] = field(default_factory=dict)


def create_app(config: WebConfig) -> Starlette:
    """The ASGI application for ``config`` (run it with uvicorn)."""
    if len(config.secret) < 32:
        raise ReportgenError("the web page's session secret must be at least 32 characters "
                             "(set REPORTGEN_WEB_SECRET)")
    ledger = Ledger(config.settings.resolved_ledger_url(), now=config.now)
    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", reports_page),
        Route("/reports/{report_id}", report_page),
        Route("/reports/{report_id}/preview", preview_page),
        Route("/reports/{report_id}/preview/page", preview_document),
        Route("/reports/{report_id}/regenerate", regenerate, methods=["POST"]),
        Route("/runs/{run_id:int}", run_page),
        Route("/jobs/{job_id:int}", job_page),
        Route("/jobs/{job_id:int}.json", job_status),
        Route("/runs/{run_id:int}/test-send", test_send, methods=["POST"]),
        Route("/runs/{run_id:int}/approve", approve, methods=["POST"]),
        Route("/runs/{run_id:int}/reject", reject, methods=["POST"]),
        Route("/files/{token}/{name}", download),
        Route("/audit", audit_page),
    ]
    middleware = [Middleware(SessionMiddleware, secret_key=config.secret,
                             session_cookie="reportgen_session", max_age=8 * 3600,
                             same_site="strict", https_only=config.secure_cookies)]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={HTTPException: _http_error}, lifespan=_lifespan)
    app.state.config = config
    app.state.ledger = ledger
    app.state.store = WebStore(ledger.engine, now=config.now)
    app.state.jobs = JobQueue()
    app.state.limiter = SignInLimiter()
    app.state.files = URLSafeSerializer(config.secret, salt="reportgen-artifact")
    app.state.preview_lock = threading.Lock()
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_approvals, args=(app, stop), daemon=True,
                               name="reportgen-web-approvals")
    watcher.start()
    yield
    stop.set()
    app.state.jobs.shutdown()  # a regeneration under way finishes and records its run
    watcher.join(timeout=10)


def check_approvals(app: Starlette) -> list[RunRecord]:
    """Alert owners of runs waiting for approval past their deadline (each once)."""
    config: WebConfig = app.state.config
    catalog = load_catalog(config.definitions, config.now(), settings_path=config.settings_path)
    return alert_overdue_approvals(
        [e.loaded.definition for e in catalog.values() if e.loaded is not None],
        ledger=app.state.ledger, smtp=config.settings.smtp, now=config.now)


def _watch_approvals(app: Starlette, stop: threading.Event) -> None:
    while not stop.wait(APPROVAL_CHECK_SECONDS):
        try:
            check_approvals(app)
        except Exception:  # logged; the page keeps serving and the next check tries again
            logging.getLogger(__name__).exception("checking approval deadlines failed")


# -- helpers -----------------------------------------------------------------------------

def _render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.update(user=current_user(request), csrf=csrf_token(request), csrf_field=CSRF_FIELD)
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 401 and request.method == "GET":
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return _render(request, "error.html", status_code=exc.status_code,
                   status=exc.status_code, message=exc.detail)


def _config(request: Request) -> WebConfig:
    return request.app.state.config  # type: ignore[no-any-return]


def _catalog(request: Request) -> dict[str, Entry]:
    config = _config(request)
    return load_catalog(config.definitions, config.now(), settings_path=config.settings_path)


def _entry(request: Request, report_id: str) -> Entry:
    entry = _catalog(request).get(report_id)
    if entry is None:
        raise HTTPException(404, f"no report '{report_id}' in {_config(request).definitions}")
    return entry


def _run(request: Request, run_id: int) -> RunRecord:
    try:
        return request.app.state.ledger.get_run(run_id)  # type: ignore[no-any-return]
    except LookupError:
        raise HTTPException(404, f"no run #{run_id}") from None


def _file_url(request: Request, run: RunRecord, index: int) -> str:
    token = request.app.state.files.dumps([run.id, index])
    return f"/files/{token}/{Path(run.artifacts[index].path).name}"


def _files(request: Request, runs: list[RunRecord]) -> dict[int, list[tuple[Any, str]]]:
    """Each run's files on disk with their signed download links (pruned ones left out)."""
    return {run.id: [(a, _file_url(request, run, i)) for i, a in enumerate(run.artifacts)
                     if a.pruned_at is None] for run in runs}


def _back(run: RunRecord, query: str = "") -> str:
    """Where an action on ``run`` returns to: its report's page, or for a segment run its
    fan-out's run page (where the other segments are)."""
    if run.parent_id is not None:
        return f"/runs/{run.parent_id}{query}#run-{run.id}"
    return f"/reports/{run.report_id}{query}#run-{run.id}"


def _entry_of_run(request: Request, run: RunRecord) -> Entry | None:
    """The definition a run was made from (a segment run's is its fan-out's)."""
    report_id = run.report_id
    if run.parent_id is not None:
        report_id = _run(request, run.parent_id).report_id
    return _catalog(request).get(report_id)


# -- sign-in -----------------------------------------------------------------------------

async def login_page(request: Request) -> Response:
    return _render(request, "login.html", next=request.query_params.get("next", "/"))


async def login(request: Request) -> Response:
    form = await check_csrf(request)
    name, password = form.get("name", ""), form.get("password", "")
    limiter: SignInLimiter = request.app.state.limiter
    store: WebStore = request.app.state.store
    key = f"{request.client.host if request.client else '-'}|{name}"
    if limiter.blocked(key):
        store.record(None, "sign-in", name, "rate-limited")
        return _render(request, "login.html", status_code=429, next="/",
                       error="Too many failed attempts; wait 15 minutes and try again.")
    user = store.authenticate(name, password)
    if user is None:
        limiter.failed(key)
        store.record(None, "sign-in", name, "refused")
        return _render(request, "login.html", status_code=401, next="/",
                       error="Unknown name or wrong password.")
    limiter.succeeded(key)
    request.session.clear()  # a new session on sign-in: no fixation of a planted cookie
    request.session["user"] = user.name
    store.record(user, "sign-in", user.name, "ok")
    target = form.get("next", "/")
    return RedirectResponse(target if target.startswith("/") and not target.startswith("//")
                            else "/", status_code=303)


async def logout(request: Request) -> Response:
    await check_csrf(request)
    request.app.state.store.record(current_user(request), "sign-out", "", "ok")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# -- pages -------------------------------------------------------------------------------

async def reports_page(request: Request) -> Response:
    require_role(request, "viewer")
    ledger: Ledger = request.app.state.ledger
    catalog = _catalog(request)
    last = {}
    for entry in catalog.values():
        runs = ledger.history(entry.report_id, limit=1)
        last[entry.report_id] = runs[0] if runs else None
    return _render(request, "reports.html", entries=catalog.values(), last=last)


async def report_page(request: Request) -> Response:
    require_role(request, "viewer")
    report_id = request.path_params["report_id"]
    entry = _entry(request, report_id)
    ledger: Ledger = request.app.state.ledger
    runs = ledger.history(report_id, limit=50)
    children = families(ledger, runs)
    every = runs + [c for kids in children.values() for c in kids]
    decisions = request.app.state.store.approvals_of([r.id for r in every])
    segments = known_segments(entry.loaded, ledger) if entry.loaded else []
    return _render(request, "report.html", entry=entry, runs=runs, files=_files(request, every),
                   children=children, decisions=decisions, segments=segments,
                   pruned=pruned_note, periods=entry.periods(_config(request).now()))


async def run_page(request: Request) -> Response:
    require_role(request, "viewer")
    ledger: Ledger = request.app.state.ledger
    run = _run(request, request.path_params["run_id"])
    parent = _run(request, run.parent_id) if run.parent_id is not None else None
    entry = _entry_of_run(request, run)
    children = ledger.children_of(run.id)
    decisions = request.app.state.store.approvals_of([run.id, *(c.id for c in children)])
    segment_of = {c.id: c.segment for c in children}
    return _render(request, "run.html", run=run, parent=parent, entry=entry,
                   children=children, files=_files(request, [run, *children]),
                   decisions=decisions, pruned=pruned_note, segment_of=segment_of)


def _build_preview(request: Request, entry: Entry, period_key: str, segment: str = "") -> Any:
    """The ReportModel for a period, or for one segment of a fan-out (built once per
    definition version, period and segment)."""
    from reportgen.errors import GateFailure
    from reportgen.pipeline import build_report

    config = _config(request)
    assert entry.loaded is not None
    if segment and entry.loaded.definition.fan_out is None:
        raise HTTPException(400, f"{entry.report_id} has no fan_out, so no segment "
                                 f"'{segment}'")
    key = (entry.report_id, period_key, entry.loaded.hash, segment)
    with request.app.state.preview_lock:
        if key not in config._previews:
            try:
                period = entry.period(period_key)
            except (ValueError, ReportgenError) as exc:
                raise HTTPException(400, f"period '{period_key}': {exc}") from None
            try:
                if segment:
                    config._previews[key] = segment_model(
                        entry.loaded, period, segment, now=config.now(),
                        domains=config.settings.allowed_domains)
                else:
                    config._previews[key] = build_report(entry.loaded, period,
                                                         now=config.now()).model
            except LookupError as missing:
                raise HTTPException(404, str(missing)) from None
            except GateFailure as held:
                raise HTTPException(409, f"{entry.report_id} {period_key} is held by its "
                                         f"data-quality gates: {held}") from None
        return config._previews[key]


def _changes(request: Request, report_id: str, model: Any) -> tuple[RunRecord | None, list, list]:
    """KPIs and headline findings of ``model`` that differ from the last sent run's."""
    sent = [r for r in request.app.state.ledger.history(report_id, children=True)
            if r.summary and any(d.status == "sent" and d.purpose == "delivery"
                                 for d in r.deliveries)]
    if not sent:
        return None, [], []
    before = MailContent.from_json(sent[0].summary["mail"])  # type: ignore[index]
    now = MailContent.from_model(model)
    old = {k.label: k for k in before.kpis}
    kpis = [(k.label, old[k.label].value_text if k.label in old else "—", k.value_text)
            for k in now.kpis if k.label not in old or old[k.label].value_text != k.value_text]
    findings = [("new", f) for f in now.findings if f not in before.findings]
    findings += [("gone", f) for f in before.findings if f not in now.findings]
    return sent[0], kpis, findings


async def preview_page(request: Request) -> Response:
    require_role(request, "viewer")
    entry = _entry(request, request.path_params["report_id"])
    if entry.loaded is None:
        raise HTTPException(409, f"{entry.path.name} is not valid: {entry.error}")
    periods = entry.periods(_config(request).now())
    period_key = request.query_params.get("period") or periods[0].key
    segment = request.query_params.get("segment", "")
    model = _build_preview(request, entry, period_key, segment)
    since, kpis, findings = _changes(request, model.report_id, model)
    segments = known_segments(entry.loaded, request.app.state.ledger)
    return _render(request, "preview.html", entry=entry, period_key=period_key,
                   periods=periods, model=model, since=since, kpi_changes=kpis,
                   finding_changes=findings, segment=segment, segments=segments)


async def preview_document(request: Request) -> Response:
    from reportgen.render.html import preview_html

    require_role(request, "viewer")
    entry = _entry(request, request.path_params["report_id"])
    if entry.loaded is None:
        raise HTTPException(409, f"{entry.path.name} is not valid: {entry.error}")
    model = _build_preview(request, entry, request.query_params.get("period", ""),
                           request.query_params.get("segment", ""))
    return HTMLResponse(preview_html(model), headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                   "img-src data:; font-src data:"})


# -- actions -----------------------------------------------------------------------------

async def regenerate(request: Request) -> Response:
    from reportgen.runner import run_fanout, run_report

    user = require_role(request, "analyst")
    form = await check_csrf(request)
    entry = _entry(request, request.path_params["report_id"])
    if entry.loaded is None:
        raise HTTPException(409, f"{entry.path.name} is not valid: {entry.error}")
    config = _config(request)
    period_key = form.get("period") or entry.periods(config.now())[0].key
    try:
        period = entry.period(period_key)
    except (ValueError, ReportgenError) as exc:
        raise HTTPException(400, f"period '{period_key}': {exc}") from None
    segment = form.get("segment", "")
    ledger: Ledger = request.app.state.ledger
    loaded = entry.loaded
    if segment and loaded.definition.fan_out is None:
        raise HTTPException(400, f"{entry.report_id} has no fan_out, so no segment "
                                 f"'{segment}'")
    settings = config.settings

    def work() -> tuple[int, str, str | None]:
        if loaded.definition.fan_out is not None:
            record = run_fanout(only_segment(loaded, segment) if segment else loaded, period,
                                trigger="manual", ledger=ledger,
                                out_dir=settings.resolved_out_dir(), send=False,
                                smtp=settings.smtp, domains=settings.allowed_domains,
                                jobs=settings.jobs, now=config.now,
                                public_url=settings.web.public_url)
        else:
            record = run_report(loaded, period, trigger="manual", ledger=ledger,
                                out_dir=settings.resolved_out_dir(), send=False,
                                smtp=settings.smtp, now=config.now,
                                public_url=settings.web.public_url)
        prune_after_run(settings, ledger.with_clock(config.now))
        return record.id, record.status, record.error

    what = f"{entry.report_id} {period.key}" + (f" {segment}" if segment else "")
    job = request.app.state.jobs.submit(entry.report_id, period.key + (
        f" · {segment}" if segment else ""), user.name, work)
    request.app.state.store.record(user, "regenerate", what, "queued", f"job {job.id}")
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


async def job_page(request: Request) -> Response:
    require_role(request, "viewer")
    job = request.app.state.jobs.get(request.path_params["job_id"])
    if job is None:
        raise HTTPException(404, "no such job (jobs are kept until the page restarts)")
    return _render(request, "job.html", job=job)


async def job_status(request: Request) -> Response:
    require_role(request, "viewer")
    job = request.app.state.jobs.get(request.path_params["job_id"])
    if job is None:
        raise HTTPException(404, "no such job")
    return JSONResponse(job.to_json())


async def test_send(request: Request) -> Response:
    from reportgen.runner import resend_run

    user = require_role(request, "analyst")
    await check_csrf(request)
    run = _run(request, request.path_params["run_id"])
    smtp = _config(request).settings.smtp
    store: WebStore = request.app.state.store
    if smtp is None:
        raise HTTPException(409, "the settings have no 'smtp' section; nothing can be sent")
    try:
        report = resend_run(run.id, user.email, ledger=request.app.state.ledger, smtp=smtp)
    except ReportgenError as exc:
        store.record(user, "test-send", f"run {run.id}", "failed", str(exc))
        raise HTTPException(409, str(exc)) from None
    outcome = "sent" if not report.failed else "failed"
    store.record(user, "test-send", f"run {run.id}", outcome, user.email)
    return RedirectResponse(_back(run, "?sent=test"), status_code=303)


async def approve(request: Request) -> Response:
    from reportgen.definition.models import EmailSpec
    from reportgen.delivery.channels import deliver_chats, run_link
    from reportgen.delivery.email import DeliveryReport, deliver_email

    user = require_role(request, "approver")
    await check_csrf(request)
    run = _run(request, request.path_params["run_id"])
    store: WebStore = request.app.state.store
    config = _config(request)
    if run.status not in ("succeeded", "partial", "pending_approval") or not run.summary:
        raise HTTPException(409, f"run #{run.id} is {run.status}; only a finished run can be "
                                 f"approved")
    raw = run.summary.get("email")
    if not raw:
        raise HTTPException(409, f"run #{run.id} has no e-mail recipients to send to")
    if config.settings.smtp is None:
        raise HTTPException(409, "the settings have no 'smtp' section; nothing can be sent")
    entry = _entry_of_run(request, run)
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
    store.decide(run.id, "approved", user, None)
    # The ledger keeps each (report, period, recipient) to one send, whoever approves twice.
    report = deliver_email(MailContent.from_json(run.summary["mail"]),
                           [a.to_artifact() for a in run.artifacts],
                           spec, config.settings.smtp,
                           ledger=request.app.state.ledger, run_id=run.id, now=config.now)
    definition = entry.loaded.definition if entry and entry.loaded else None
    chats = deliver_chats(MailContent.from_json(run.summary["mail"]),
                          [a.to_artifact() for a in run.artifacts],
                          definition.delivery if definition else None,
                          ledger=request.app.state.ledger, run_id=run.id,
                          link=run_link(config.settings.web.public_url, run.id))
    report = DeliveryReport(report.outcomes + chats.outcomes)
    problems = [f"{o.recipient} ({o.status}: {o.error})"
                for o in report.failed + report.unconfirmed]
    if run.status == "pending_approval":  # the waiting run ends as its delivery went
        reached = len(report.outcomes) - len(report.failed)
        request.app.state.ledger.finish_run(
            run.id, "succeeded" if not problems else "partial" if reached else "failed",
            error="not delivered to " + "; ".join(problems) if problems else None)
    store.record(user, "approve", f"run {run.id}", "sent" if not problems else "partial",
                 ", ".join(f"{o.recipient}: {o.status}" for o in report.outcomes))
    return RedirectResponse(_back(run), status_code=303)


async def reject(request: Request) -> Response:
    user = require_role(request, "approver")
    form = await check_csrf(request)
    run = _run(request, request.path_params["run_id"])
    reason = form.get("reason", "").strip()
    if not reason:
        raise HTTPException(400, "a rejection needs a reason (what should change)")
    request.app.state.store.decide(run.id, "rejected", user, reason[:2000])
    if run.status == "pending_approval":  # it will never be sent; a new run replaces it
        request.app.state.ledger.finish_run(run.id, "rejected", error=f"rejected by "
                                            f"{user.name}: {reason[:2000]}")
    request.app.state.store.record(user, "reject", f"run {run.id}", "ok", reason[:2000])
    return RedirectResponse(_back(run), status_code=303)


async def download(request: Request) -> Response:
    user = require_role(request, "viewer")
    try:
        run_id, index = request.app.state.files.loads(request.path_params["token"])
    except BadSignature:
        raise HTTPException(404, "no such file") from None
    run = _run(request, int(run_id))
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


async def audit_page(request: Request) -> Response:
    require_role(request, "admin")
    return _render(request, "audit.html", entries=request.app.state.store.audit_entries())
