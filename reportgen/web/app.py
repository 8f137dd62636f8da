"""The quality team's web page (``reportgen serve``): reports, runs, previews, approvals.

Server-rendered Jinja2 pages on Starlette.  Every page needs a signed-in user; every form
carries a CSRF token; every action is written to the audit trail.  Runs, artifacts and
deliveries come from the run ledger and go through the same runner and delivery code as
the command line, so a page can never send a report twice to the same recipient.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from itsdangerous import URLSafeSerializer
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from reportgen.delivery.content import MailContent
from reportgen.errors import ReportgenError
from reportgen.ledger.pruning import pruned_note
from reportgen.ledger.store import Ledger, RunRecord
from reportgen.run.approvals import alert_overdue_approvals
from reportgen.web.auth import (
    SESSION_KEY,
    SignInLimiter,
    check_csrf,
    client_address,
    current_user,
)
from reportgen.web.auth import require as require_role
from reportgen.web.catalog import Entry, load_catalog
from reportgen.web.common import (
    WebConfig,
    catalog,
    entry_for,
    http_error,
    render,
    run_files,
    web_config,
)
from reportgen.web.jobs import JobQueue
from reportgen.web.run_actions import approve, download, reject, run_page, test_send
from reportgen.web.segments import families, known_segments, segment_model
from reportgen.web.store import WebStore

APPROVAL_CHECK_SECONDS = 60


def create_app(config: WebConfig) -> Starlette:
    """The ASGI application for ``config`` (run it with uvicorn)."""
    if len(config.secret) < 32:
        raise ReportgenError("the web page's session secret must be at least 32 characters "
                             "(set REPORTGEN_WEB_SECRET)")
    ledger = Ledger(config.settings.resolved_ledger_url(), now=config.now,
                    out_dir=config.settings.resolved_out_dir())
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
                    exception_handlers={HTTPException: http_error}, lifespan=_lifespan)
    app.state.config = config
    app.state.ledger = ledger
    app.state.store = WebStore(ledger.engine, now=config.now)
    app.state.jobs = JobQueue(ledger.engine, config.now)
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
    found = load_catalog(config.definitions, config.now(), settings_path=config.settings_path)
    return alert_overdue_approvals(
        [e.loaded.definition for e in found.values() if e.loaded is not None],
        ledger=app.state.ledger, smtp=config.settings.smtp, now=config.now)


def _watch_approvals(app: Starlette, stop: threading.Event) -> None:
    while not stop.wait(APPROVAL_CHECK_SECONDS):
        try:
            check_approvals(app)
        except Exception:  # logged; the page keeps serving and the next check tries again
            logging.getLogger(__name__).exception("checking approval deadlines failed")


# -- sign-in -----------------------------------------------------------------------------

async def login_page(request: Request) -> Response:
    return render(request, "login.html", next=request.query_params.get("next", "/"))


async def login(request: Request) -> Response:
    form = await check_csrf(request)
    name, password = form.get("name", ""), form.get("password", "")
    limiter: SignInLimiter = request.app.state.limiter
    store: WebStore = request.app.state.store
    client = client_address(request, web_config(request).settings.web.trusted_proxy_header)
    wait = limiter.wait(name, client)
    if wait > 0:
        store.record(None, "sign-in", name, "rate-limited", f"from {client}")
        return render(request, "login.html", status_code=429, next="/",
                       error=f"Too many failed attempts; wait {max(1, round(wait / 60))} "
                             f"minute(s) and try again.")
    user = store.authenticate(name, password)
    if user is None:
        limiter.failed(name, client)
        store.record(None, "sign-in", name, "refused", f"from {client}")
        return render(request, "login.html", status_code=401, next="/",
                       error="Unknown name or wrong password.")
    limiter.succeeded(name, client)
    old = request.session.get(SESSION_KEY)
    if old:
        store.end_session(str(old))
    request.session.clear()  # a new session on sign-in: no fixation of a planted cookie
    request.session[SESSION_KEY] = store.open_session(user)
    store.record(user, "sign-in", user.name, "ok", f"from {client}")
    target = form.get("next", "/")
    return RedirectResponse(target if target.startswith("/") and not target.startswith("//")
                            else "/", status_code=303)


async def logout(request: Request) -> Response:
    await check_csrf(request)
    store: WebStore = request.app.state.store
    store.record(current_user(request), "sign-out", "", "ok")
    session_id = request.session.get(SESSION_KEY)
    if session_id:
        store.end_session(str(session_id))  # the cookie, if kept or copied, is signed out
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# -- pages -------------------------------------------------------------------------------

async def reports_page(request: Request) -> Response:
    require_role(request, "viewer")
    ledger: Ledger = request.app.state.ledger
    entries = catalog(request)
    last = {}
    for entry in entries.values():
        runs = ledger.history(entry.report_id, limit=1)
        last[entry.report_id] = runs[0] if runs else None
    return render(request, "reports.html", entries=entries.values(), last=last)


async def report_page(request: Request) -> Response:
    require_role(request, "viewer")
    report_id = request.path_params["report_id"]
    entry = entry_for(request, report_id)
    ledger: Ledger = request.app.state.ledger
    runs = ledger.history(report_id, limit=50)
    children = families(ledger, runs)
    every = runs + [c for kids in children.values() for c in kids]
    decisions = request.app.state.store.approvals_of([r.id for r in every])
    segments = known_segments(entry.loaded, ledger) if entry.loaded else []
    return render(request, "report.html", entry=entry, runs=runs, files=run_files(request, every),
                   children=children, decisions=decisions, segments=segments,
                   pruned=pruned_note, periods=entry.periods(web_config(request).now()))


def _build_preview(request: Request, entry: Entry, period_key: str, segment: str = "") -> Any:
    """The ReportModel for a period, or for one segment of a fan-out (built once per
    definition version, period and segment)."""
    from reportgen.errors import GateFailure
    from reportgen.run.runner import resolve_pipeline

    config = web_config(request)
    assert entry.loaded is not None
    if segment and entry.loaded.definition.fan_out is None:
        raise HTTPException(400, f"{entry.report_id} has no fan_out, so no segment "
                                 f"'{segment}'")
    from reportgen.data.fingerprint import cheap_fingerprints

    # Kept only while the data is what it was: a preview is keyed on the files' fingerprints,
    # and a report over a database is built afresh each time.
    data = cheap_fingerprints(entry.loaded.definition.sources, entry.loaded.base_dir)
    key = (entry.report_id, period_key, entry.loaded.hash, segment,
           tuple(sorted(data.items())) if data is not None else None)
    with request.app.state.preview_lock:
        for old in [k for k in config._previews if k[:4] == key[:4] and k != key]:
            del config._previews[old]  # built from data that has changed since
        if data is None:
            config._previews.pop(key, None)
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
                else:  # the settings' pipeline, as a run would build it
                    build = resolve_pipeline(config.settings.pipeline).build
                    config._previews[key] = build(entry.loaded, period, now=config.now()).model
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
    before = MailContent.from_json(sent[0].summary["mail"])
    now = MailContent.from_model(model)
    old = {k.label: k for k in before.kpis}
    kpis = [(k.label, old[k.label].value_text if k.label in old else "—", k.value_text)
            for k in now.kpis if k.label not in old or old[k.label].value_text != k.value_text]
    findings = [("new", f) for f in now.findings if f not in before.findings]
    findings += [("gone", f) for f in before.findings if f not in now.findings]
    return sent[0], kpis, findings


async def preview_page(request: Request) -> Response:
    require_role(request, "viewer")
    entry = entry_for(request, request.path_params["report_id"])
    if entry.loaded is None:
        raise HTTPException(409, f"{entry.path.name} is not valid: {entry.error}")
    periods = entry.periods(web_config(request).now())
    period_key = request.query_params.get("period") or periods[0].key
    segment = request.query_params.get("segment", "")
    # built on a worker thread: the page keeps answering everyone else meanwhile
    model = await run_in_threadpool(_build_preview, request, entry, period_key, segment)
    since, kpis, findings = _changes(request, model.report_id, model)
    segments = known_segments(entry.loaded, request.app.state.ledger)
    return render(request, "preview.html", entry=entry, period_key=period_key,
                   periods=periods, model=model, since=since, kpi_changes=kpis,
                   finding_changes=findings, segment=segment, segments=segments)


async def preview_document(request: Request) -> Response:
    from reportgen.render.html import preview_html

    require_role(request, "viewer")
    entry = entry_for(request, request.path_params["report_id"])
    if entry.loaded is None:
        raise HTTPException(409, f"{entry.path.name} is not valid: {entry.error}")
    model = await run_in_threadpool(_build_preview, request, entry,
                                    request.query_params.get("period", ""),
                                    request.query_params.get("segment", ""))
    return HTMLResponse(preview_html(model), headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                   "img-src data:; font-src data:"})


# -- actions -----------------------------------------------------------------------------

async def regenerate(request: Request) -> Response:
    from reportgen.run.core import RunRequest, execute

    user = require_role(request, "analyst")
    form = await check_csrf(request)
    entry = entry_for(request, request.path_params["report_id"])
    if entry.loaded is None:
        raise HTTPException(409, f"{entry.path.name} is not valid: {entry.error}")
    config = web_config(request)
    period_key = form.get("period") or entry.periods(config.now())[0].key
    try:
        period = entry.period(period_key)
    except (ValueError, ReportgenError) as exc:
        raise HTTPException(400, f"period '{period_key}': {exc}") from None
    segment = form.get("segment", "")
    loaded = entry.loaded
    if segment and loaded.definition.fan_out is None:
        raise HTTPException(400, f"{entry.report_id} has no fan_out, so no segment "
                                 f"'{segment}'")
    run_request = RunRequest(entry.path, period.key, "manual", send=False,
                             segment=segment or None, requested_by=user.name)
    ledger: Ledger = request.app.state.ledger

    def work(sink: Any) -> tuple[int, str, str | None]:
        outcome = execute(run_request, config.settings, loaded=loaded, ledger=ledger,
                          sink=sink, now=config.now)
        assert outcome.record is not None
        return outcome.record.id, outcome.record.status, outcome.record.error

    what = f"{entry.report_id} {period.key}" + (f" {segment}" if segment else "")
    job = request.app.state.jobs.submit("regenerate", entry.report_id, period.key + (
        f" · {segment}" if segment else ""), user.name, work)
    request.app.state.store.record(user, "regenerate", what, "queued", f"job {job.id}")
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


async def job_page(request: Request) -> Response:
    require_role(request, "viewer")
    job = request.app.state.jobs.get(request.path_params["job_id"])
    if job is None:
        raise HTTPException(404, "no such job")
    return render(request, "job.html", job=job, elapsed=job.elapsed(web_config(request).now()))


async def job_status(request: Request) -> Response:
    require_role(request, "viewer")
    job = request.app.state.jobs.get(request.path_params["job_id"])
    if job is None:
        raise HTTPException(404, "no such job")
    return JSONResponse(job.to_json(web_config(request).now()))


async def audit_page(request: Request) -> Response:
    require_role(request, "admin")
    return render(request, "audit.html", entries=request.app.state.store.audit_entries())
