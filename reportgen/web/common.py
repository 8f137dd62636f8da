"""What every page of the web page shares: its configuration, templates and lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from reportgen import text
from reportgen.ledger.records import RunRecord
from reportgen.ledger.store import utc_now
from reportgen.settings import Settings
from reportgen.web.auth import CSRF_FIELD, csrf_token, current_user
from reportgen.web.catalog import Entry, load_catalog
from reportgen.web.plain_errors import explain

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# dates and numbers on the pages are written by reportgen.text, as in the reports
TEMPLATES.env.filters.update(plain=text.plain, timestamp=text.timestamp, clock=text.clock, day=text.day,
                             count=text.count, seconds=text.seconds)


def _in_words(cron: str) -> str:
    from reportgen.web.about import schedule_in_words

    return schedule_in_words(cron)


TEMPLATES.env.globals["in_words"] = _in_words


@dataclass
class WebConfig:
    """What the page serves: a folder of definitions, the settings and the clock."""

    definitions: Path
    settings: Settings
    secret: str
    settings_path: Path | None = None
    secure_cookies: bool = True
    now: Callable[[], datetime] = utc_now
    _previews: dict[tuple[Any, ...], Any] = field(default_factory=dict)



def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    definitions = web_config(request).definitions
    context.update(user=current_user(request), csrf=csrf_token(request), csrf_field=CSRF_FIELD,
                   notice=request.session.pop("notice", None),
                   plain=lambda message: explain(message, definitions))
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 401 and request.method == "GET":
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return render(request, "error.html", status_code=exc.status_code,
                   status=exc.status_code, message=exc.detail)


def web_config(request: Request) -> WebConfig:
    return request.app.state.config


def catalog(request: Request) -> dict[str, Entry]:
    config = web_config(request)
    return load_catalog(config.definitions, config.now(), settings_path=config.settings_path)


def entry_for(request: Request, report_id: str) -> Entry:
    entry = catalog(request).get(report_id)
    if entry is None:
        raise HTTPException(404, f"no report '{report_id}' in {web_config(request).definitions}")
    return entry


def run_for(request: Request, run_id: int) -> RunRecord:
    try:
        return request.app.state.ledger.get_run(run_id)
    except LookupError:
        raise HTTPException(404, f"no run #{run_id}") from None


def file_url(request: Request, run: RunRecord, index: int) -> str:
    token = request.app.state.files.dumps([run.id, index])
    return f"/files/{token}/{Path(run.artifacts[index].path).name}"


def run_files(request: Request, runs: list[RunRecord]) -> dict[int, list[tuple[Any, str]]]:
    """Each run's files on disk with their signed download links (pruned ones left out)."""
    return {run.id: [(a, file_url(request, run, i)) for i, a in enumerate(run.artifacts)
                     if a.pruned_at is None] for run in runs}


def back_to(run: RunRecord, query: str = "") -> str:
    """Where an action on ``run`` returns to: its report's page, or for a segment run its
    fan-out's run page (where the other segments are)."""
    if run.parent_id is not None:
        return f"/runs/{run.parent_id}{query}#run-{run.id}"
    return f"/reports/{run.report_id}{query}#run-{run.id}"


def entry_of_run(request: Request, run: RunRecord) -> Entry | None:
    """The definition a run was made from (a segment run's is its fan-out's)."""
    report_id = run.report_id
    if run.parent_id is not None:
        report_id = run_for(request, run.parent_id).report_id
    return catalog(request).get(report_id)
