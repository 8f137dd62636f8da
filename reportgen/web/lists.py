"""The page's lists and their filters: the reports (by name, owner and last run's status),
a report's run log (each run's time per stage, outcome and error), and the audit trail (by
user, action, report and days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reportgen.ledger.records import RunRecord
from reportgen.ledger.store import Ledger
from reportgen.web.auth import require as require_role
from reportgen.web.catalog import Entry
from reportgen.web.common import catalog, entry_for, render
from reportgen.web.store import AuditTargets, WebStore

#: the report list's status filter for a report that has no run, and for an invalid one
NEVER_RUN = "never run"
INVALID = "invalid"


def _matches(entry: Entry, last: RunRecord | None, name: str, owner: str, status: str) -> bool:
    if name and name.casefold() not in f"{entry.title} {entry.report_id}".casefold():
        return False
    if owner and (entry.owner or "") != owner:
        return False
    if status == INVALID:
        return entry.loaded is None
    if status == NEVER_RUN:
        return entry.loaded is not None and last is None
    return not status or (last is not None and last.status == status)


async def reports_page(request: Request) -> Response:
    require_role(request, "viewer")
    ledger: Ledger = request.app.state.ledger
    entries = catalog(request)
    last = {}
    for entry in entries.values():
        runs = ledger.history(entry.report_id, limit=1)
        last[entry.report_id] = runs[0] if runs else None
    asked = {k: request.query_params.get(k, "").strip() for k in ("name", "owner", "status")}
    shown = [e for e in entries.values() if _matches(e, last[e.report_id], **asked)]
    owners = sorted({e.owner for e in entries.values() if e.owner})
    statuses = sorted({r.status for r in last.values() if r is not None})
    return render(request, "reports.html", entries=shown, last=last, total=len(entries),
                  asked=asked, owners=owners, statuses=[*statuses, NEVER_RUN, INVALID])


@dataclass(frozen=True)
class LoggedRun:
    """One run in a report's run log."""

    run: RunRecord
    seconds: float | None
    stages: list[tuple[str, float]]
    segments: list[RunRecord]


async def run_log_page(request: Request) -> Response:
    """Each run of a report, newest first: how long it took, stage by stage, how it ended
    and why."""
    require_role(request, "viewer")
    entry = entry_for(request, request.path_params["report_id"])
    ledger: Ledger = request.app.state.ledger
    logged = []
    for run in ledger.history(entry.report_id, limit=100):
        took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        stages = [(str(s.get("stage")), float(s.get("seconds") or 0))
                  for s in (run.summary or {}).get("stages") or ()]
        logged.append(LoggedRun(run, took, stages, ledger.children_of(run.id)))
    return render(request, "run_log.html", entry=entry, logged=logged)


def _day(text: str, field: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        from starlette.exceptions import HTTPException

        raise HTTPException(400, f"{field} '{text}': expected a day as YYYY-MM-DD") from None


def _report_targets(ledger: Ledger, report_id: str) -> AuditTargets:
    """What audit entries about ``report_id`` name: its runs and its segments' runs, its
    id at the start ("csat-mini 2026-09"), its page's addresses and its files' folder."""
    runs = ledger.history(report_id, limit=500)
    ids = [r.id for r in runs] + [c.id for r in runs for c in ledger.children_of(r.id)]
    escaped = report_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return AuditTargets(tuple(f"run {i}" for i in ids),
                        (f"{escaped} %", escaped, f"%/reports/{escaped}%", f"%/{escaped}/%"))


async def audit_page(request: Request) -> Response:
    require_role(request, "admin")
    store: WebStore = request.app.state.store
    asked = {k: request.query_params.get(k, "").strip()
             for k in ("user", "action", "report", "since", "until")}
    since, until = _day(asked["since"], "from"), _day(asked["until"], "to")
    filters: dict[str, Any] = dict(user=asked["user"] or None, action=asked["action"] or None)
    if asked["report"]:
        filters["targets"] = _report_targets(request.app.state.ledger, asked["report"])
    if since is not None:
        filters["since"] = datetime.combine(since, datetime.min.time(), UTC)
    if until is not None:  # the whole of the last day
        filters["until"] = datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC)
    users, actions = store.audit_choices()
    return render(request, "audit.html", entries=store.audit_entries(**filters), asked=asked,
                  users=users, actions=actions, reports=sorted(catalog(request)))
