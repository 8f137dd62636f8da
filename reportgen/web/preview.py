"""The preview of a report: by default its last period with data; a period its gates hold
is explained inside the page, and can be shown anyway (marked as held)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from reportgen.errors import ReportgenError
from reportgen.web.about import last_period_with_data
from reportgen.web.auth import current_user
from reportgen.web.auth import require as require_role
from reportgen.web.catalog import Entry
from reportgen.web.changes import compare
from reportgen.web.common import entry_for, render, web_config
from reportgen.web.segments import known_segments, segment_model, segment_refusal


class Held(Exception):
    """The report's data-quality gates hold this period; ``reason`` says which and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _ungated(entry: Entry) -> Any:
    """The definition with every holding gate turned into a warning (a held preview)."""
    assert entry.loaded is not None
    definition = entry.loaded.definition
    gates = [g.model_copy(update={"action": "warn"}) for g in definition.gates]
    return replace(entry.loaded, definition=definition.model_copy(update={"gates": gates}))


def build_preview(request: Request, entry: Entry, period_key: str, segment: str = "",
                  anyway: bool = False) -> Any:
    """The ReportModel for a period, or for one segment of a fan-out (built once per
    definition version, period and segment); Held when the gates hold it, unless
    ``anyway``."""
    from reportgen.errors import GateFailure
    from reportgen.run.build import current_fingerprints
    from reportgen.run.pipeline import resolve_pipeline

    config = web_config(request)
    assert entry.loaded is not None
    if segment and entry.loaded.definition.fan_out is None:
        raise HTTPException(400, f"{entry.report_id} has no fan_out, so no segment "
                                 f"'{segment}'")
    try:
        period = entry.period(period_key)
    except (ValueError, ReportgenError) as exc:
        raise HTTPException(400, f"period '{period_key}': {exc}") from None
    # Kept only while the data is what it was: a preview is keyed on its sources'
    # fingerprints (a file's size, time and content hash; a database's cheap statement over
    # the window), so the page and its document share one build until the data changes.
    data = current_fingerprints(entry.loaded, period)
    key = (entry.report_id, period_key, entry.loaded.hash, segment, anyway,
           tuple(sorted(data.items())))
    with request.app.state.preview_lock:
        for old in [k for k in config._previews if k[:5] == key[:5] and k != key]:
            del config._previews[old]  # built from data that has changed since
        if key not in config._previews:
            loaded = _ungated(entry) if anyway else entry.loaded
            user = current_user(request)
            label = period.key + (f" · {segment}" if segment else "")
            held: str | None = None
            # A build is a job of the ledger like a regeneration: the report page lists it
            # with its stage and time, and a restart leaves it marked, not lost.
            with request.app.state.jobs.recorded("preview", entry.report_id, label[:64],
                                                 user.name if user else None) as job:
                try:
                    if segment:
                        config._previews[key] = segment_model(
                            loaded, period, segment, now=config.now(),
                            domains=config.settings.allowed_domains)
                    else:  # the settings' pipeline, as a run would build it
                        build = resolve_pipeline(config.settings.pipeline).build
                        config._previews[key] = build(loaded, period, now=config.now()).model
                except LookupError as missing:
                    raise HTTPException(404, str(missing)) from None
                except GateFailure as gate:
                    held = str(gate)
                    job.result(run_status="held")
            if held is not None:
                raise Held(held)
        return config._previews[key]


async def preview_page(request: Request) -> Response:
    require_role(request, "viewer")
    entry = entry_for(request, request.path_params["report_id"])
    if entry.loaded is None:
        raise HTTPException(409, f"{entry.path.name} is not valid: {entry.error}")
    periods = entry.periods(web_config(request).now())
    period_key = request.query_params.get("period")
    if not period_key:  # the newest period with data, not one still empty
        with_data = await run_in_threadpool(last_period_with_data, entry, periods)
        period_key = (with_data or periods[0]).key
    try:
        label = entry.period(period_key).label
    except (ValueError, ReportgenError) as exc:
        raise HTTPException(400, f"period '{period_key}': {exc}") from None
    segment = request.query_params.get("segment", "")
    anyway = request.query_params.get("anyway") == "1"
    segments = await run_in_threadpool(known_segments, entry.loaded, request.app.state.ledger,
                                       entry.period(period_key), request.app.state.segments)
    refused = segment_refusal(entry.loaded, segment,
                              web_config(request).settings.allowed_domains) if segment else None
    context: dict[str, Any] = dict(entry=entry, period_key=period_key, periods=periods,
                                   segment=segment, segments=segments, anyway=anyway,
                                   period_label=label, refused=refused)
    try:
        # built on a worker thread: the page keeps answering everyone else meanwhile
        model = await run_in_threadpool(build_preview, request, entry, period_key, segment,
                                        anyway)
    except Held as held:
        return render(request, "preview.html", status_code=200, held=held.reason,
                      model=None, comparison=None, **context)
    comparison = await run_in_threadpool(compare, request.app.state.ledger, model)
    return render(request, "preview.html", model=model, comparison=comparison, held=None,
                  **context)


async def preview_document(request: Request) -> Response:
    from reportgen.render.html import preview_html

    require_role(request, "viewer")
    entry = entry_for(request, request.path_params["report_id"])
    if entry.loaded is None:
        raise HTTPException(409, f"{entry.path.name} is not valid: {entry.error}")
    try:
        model = await run_in_threadpool(build_preview, request, entry,
                                        request.query_params.get("period", ""),
                                        request.query_params.get("segment", ""),
                                        request.query_params.get("anyway") == "1")
    except Held as held:
        raise HTTPException(409, f"{entry.report_id} {request.query_params.get('period')} is "
                                 f"held by its data-quality gates: {held.reason}") from None
    return HTMLResponse(preview_html(model), headers={
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                   "img-src data:; font-src data:"})
