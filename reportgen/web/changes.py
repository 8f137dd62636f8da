"""What a preview says changed, like for like: against the same period as it was last sent,
or, for a period never sent, against the previous period as it was last sent (month on
month), naming which.

Every number and reading comes from the report itself: the values as the report and the
sent e-mail state them, the model's own change against the previous period and its plain
words for whether that is a real change.  Only the difference between a sent number and
the same period's number now is taken here, from the two shown values (as a reader would),
and written by the text authority.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reportgen import text
from reportgen.delivery.content import MailContent
from reportgen.ledger.records import RunRecord
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.report.model.report_model import ReportModel

#: how a report's grain names a comparison with the period before
_ON = {"month": "month on month", "quarter": "quarter on quarter", "week": "week on week"}


@dataclass(frozen=True)
class KpiChange:
    """One headline KPI: what was sent, what the preview says, the change between them and
    how the report reads it."""

    label: str
    sent: str
    now: str
    change: str
    reading: str


@dataclass(frozen=True)
class Comparison:
    """What the preview is compared with, in a sentence naming both periods, and what
    differs."""

    note: str
    run: RunRecord | None = None
    sent_label: str = ""
    same_period: bool = False
    kpis: list[KpiChange] = field(default_factory=list)
    findings: list[tuple[str, str]] = field(default_factory=list)


def _sent_at(run: RunRecord) -> datetime:
    return min(d.updated_at for d in run.deliveries
               if d.status == "sent" and d.purpose == "delivery")


def last_sent(ledger: Ledger, report_id: str) -> dict[str, RunRecord]:
    """Per period, the newest run of ``report_id`` that reached its recipients."""
    found: dict[str, RunRecord] = {}
    for run in ledger.history(report_id, children=True):  # newest first
        if run.summary and "mail" in run.summary and any(
                d.status == "sent" and d.purpose == "delivery" for d in run.deliveries):
            found.setdefault(run.period, run)
    return found


def compare(ledger: Ledger, model: ReportModel) -> Comparison:
    """``model`` (a preview) against the same period's last sent run, else the previous
    period's (month on month), else a sentence saying there is nothing to compare with."""
    info = model.period
    period = Period(info.start, info.grain, info.timezone)  # type: ignore[arg-type]
    previous = period.previous()
    sent = last_sent(ledger, model.report_id)
    if not sent:
        return Comparison("Nothing has been sent yet for this report.")
    run = sent.get(period.key)
    if run is not None:
        note = (f"Compared with {period.label} as it was sent: run #{run.id}, sent "
                f"{text.day(_sent_at(run))}. The same period, so any difference comes from "
                f"data or a definition that changed since.")
        return _compared(model, run, period.label, same=True, note=note)
    run = sent.get(previous.key)
    if run is None:
        return Comparison(f"Neither {period.label} nor the period before it, {previous.label}, "
                          f"has been sent yet, so there is nothing like for like to compare "
                          f"with.")
    note = (f"{period.label} has not been sent yet, so it is compared with the previous "
            f"period, {previous.label}, as it was sent: run #{run.id}, sent "
            f"{text.day(_sent_at(run))} ({_ON.get(info.grain, 'period on period')}).")
    return _compared(model, run, previous.label, same=False, note=note)


def _compared(model: ReportModel, run: RunRecord, sent_label: str, *, same: bool,
              note: str) -> Comparison:
    summary: Mapping[str, Any] = run.summary or {}
    before = MailContent.from_json(summary["mail"])
    numbers = {m["id"]: m for m in summary.get("metrics") or ()}
    old = {k.label: k for k in before.kpis}
    rows = []
    for kpi in model.summary_kpis:
        result = kpi.metric
        was = old.get(result.label)
        if same and was is not None and was.value_text == kpi.value_text:
            continue  # the same period reads as it did: nothing to say
        if same:
            change = _difference(numbers.get(result.metric_id), result) \
                if was is not None else "not in the sent report"
            reading = (f"this period {kpi.delta_text}: {kpi.significance_text}"
                       if kpi.delta_text != "no comparison" else kpi.significance_text)
        else:
            change, reading = kpi.delta_text, kpi.significance_text
        rows.append(KpiChange(result.label, was.value_text if was is not None else text.MISSING,
                              kpi.value_text, change, reading))
    now = MailContent.from_model(model)
    findings = [("new", f) for f in now.findings if f not in before.findings]
    findings += [("gone", f) for f in before.findings if f not in now.findings]
    return Comparison(note, run, sent_label, same, rows, findings)


def _difference(sent: Mapping[str, Any] | None, result: Any) -> str:
    """The change from the sent number to the same period's number now, from the two values
    as shown (what a reader would work out from them)."""
    if (sent is None or sent.get("value") is None or sent.get("suppressed")
            or result.value is None or result.suppressed):
        return text.MISSING
    delta = text.shown_difference(result.value, sent["value"], result.unit)
    return f"{text.change(delta, result.unit)} since it was sent"
