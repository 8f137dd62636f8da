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

from itsdangerous import URLSafeSerializer
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from reportgen import text
from reportgen.errors import ReportgenError
from reportgen.executors.job_thread import JobQueue
from reportgen.executors.placement import CeleryExecutor, LedgerJobExecutor
from reportgen.ledger.pruning import pruned_note
from reportgen.ledger.records import RunRecord
from reportgen.ledger.store import Ledger
from reportgen.run.approvals import alert_overdue_approvals
from reportgen.web.about import about, last_period_with_data
from reportgen.web.auth import (
    SESSION_KEY,
    SignInLimiter,
    check_csrf,
    client_address,
    current_user,
)
from reportgen.web.auth import require as require_role
from reportgen.web.catalog import load_catalog
from reportgen.web.common import (
    WebConfig,
    entry_for,
    http_error,
    render,
    run_files,
    web_config,
)
from reportgen.web.lists import audit_page, reports_page, run_log_page
from reportgen.web.plain_errors import explain
from reportgen.web.preview import preview_document, preview_page
from reportgen.web.run_actions import download, reject, run_page, test_send
from reportgen.web.segments import families, known_segments
from reportgen.web.sending import approve, confirm_page, send
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
        Route("/reports/{report_id}/log", run_log_page),
        Route("/reports/{report_id}/preview", preview_page),
        Route("/reports/{report_id}/preview/page", preview_document),
        Route("/reports/{report_id}/regenerate", regenerate, methods=["POST"]),
        Route("/reports/{report_id}/pause-schedule", pause_schedule, methods=["POST"]),
        Route("/reports/{report_id}/resume-schedule", resume_schedule, methods=["POST"]),
        Route("/runs/{run_id:int}", run_page),
        Route("/jobs/{job_id:int}", job_page),
        Route("/jobs/{job_id:int}.json", job_status),
        Route("/runs/{run_id:int}/test-send", test_send, methods=["POST"]),
        Route("/runs/{run_id:int}/send", confirm_page, methods=["GET"]),
        Route("/runs/{run_id:int}/send", send, methods=["POST"]),
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
    # regenerations run on the Celery workers when the settings say so, else on this
    # process's job thread
    app.state.executor = (
        CeleryExecutor(config.settings, str(config.settings_path) if config.settings_path
                       else None)
        if config.settings.executor == "celery"
        else LedgerJobExecutor(config.settings, app.state.jobs, ledger=ledger, now=config.now))
    app.state.limiter = SignInLimiter()
    app.state.files = URLSafeSerializer(config.secret, salt="reportgen-artifact")
    app.state.preview_lock = threading.Lock()
    app.state.segments = {}  # a fan-out's segments in its data, per data fingerprint
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

async def report_page(request: Request) -> Response:
    require_role(request, "viewer")
    report_id = request.path_params["report_id"]
    entry = entry_for(request, report_id)
    ledger: Ledger = request.app.state.ledger
    runs = ledger.history(report_id, limit=50)
    children = families(ledger, runs)
    every = runs + [c for kids in children.values() for c in kids]
    decisions = request.app.state.store.approvals_of([r.id for r in every])
    now = web_config(request).now()
    periods = entry.periods(now)
    facts = await run_in_threadpool(about, entry, ledger, now)
    with_data = await run_in_threadpool(last_period_with_data, entry, periods)
    shown = with_data or (periods[0] if periods else None)
    segments = await run_in_threadpool(known_segments, entry.loaded, ledger, shown,
                                       request.app.state.segments) if entry.loaded else []
    return render(request, "report.html", entry=entry, runs=runs, files=run_files(request, every),
                   children=children, decisions=decisions, segments=segments,
                   pruned=pruned_note, periods=periods, about=facts, now=now,
                   jobs=request.app.state.jobs.recent(report_id),
                   default_period=shown)


# -- actions -----------------------------------------------------------------------------

async def regenerate(request: Request) -> Response:
    from reportgen.run.core import RunRequest

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
    what = f"{entry.report_id} {period.key}" + (f" {segment}" if segment else "")
    placed = request.app.state.executor.place(run_request, loaded=loaded)
    if placed.job_id is None:  # on the workers: the run shows in the report's run log
        where = (f"task {placed.task_id}" if placed.task_id else
                 f"kept queued (#{placed.enqueued_id}): the broker could not be reached")
        request.app.state.store.record(user, "regenerate", what, "queued", where)
        return RedirectResponse(f"/reports/{entry.report_id}/log", status_code=303)
    request.app.state.store.record(user, "regenerate", what, "queued", f"job {placed.job_id}")
    return RedirectResponse(f"/jobs/{placed.job_id}", status_code=303)


async def pause_schedule(request: Request) -> Response:
    """Pause a report's schedule (admin or approver): its scheduled runs and their retries
    are skipped until it is resumed; a run asked for by hand still runs."""
    return await _toggle_schedule(request, pause=True)


async def resume_schedule(request: Request) -> Response:
    return await _toggle_schedule(request, pause=False)


async def _toggle_schedule(request: Request, *, pause: bool) -> Response:
    user = require_role(request, "approver")
    await check_csrf(request)
    entry = entry_for(request, request.path_params["report_id"])
    ledger: Ledger = request.app.state.ledger
    pauses = ledger.pauses
    if pause:
        pauses.pause(entry.report_id, user.name)
        request.session["notice"] = (f"The schedule of {entry.report_id} is paused: its "
                                     f"scheduled runs are skipped until it is resumed.")
    else:
        pauses.resume(entry.report_id)
        request.session["notice"] = f"The schedule of {entry.report_id} runs again."
    request.app.state.store.record(user, "pause-schedule" if pause else "resume-schedule",
                                   entry.report_id, "ok")
    return RedirectResponse(f"/reports/{entry.report_id}", status_code=303)


async def job_page(request: Request) -> Response:
    require_role(request, "viewer")
    job = request.app.state.jobs.get(request.path_params["job_id"])
    if job is None:
        raise HTTPException(404, "no such job")
    return render(request, "job.html", job=job, elapsed=job.elapsed(web_config(request).now()))


async def job_status(request: Request) -> Response:
    user = require_role(request, "viewer")
    job = request.app.state.jobs.get(request.path_params["job_id"])
    if job is None:
        raise HTTPException(404, "no such job")
    config = web_config(request)
    now = config.now()
    elapsed = job.elapsed(now)
    said = explain(job.error, config.definitions)
    return JSONResponse({**job.to_json(now), "error": said.plain or None,
                         **({"error_detail": said.detail} if user.may("admin") else {}),
                         "elapsed_text": text.seconds(elapsed) if elapsed is not None else None})
