"""Restatements: a number already sent for a period that a new report states differently.

Leadership trusts a corrected report only when it says what changed.  When a period's
report went out and its data changed since (late surveys, a fixed export, rows deleted),
the next delivery for that period names each number that now reads differently, what it
was, when it was sent, and which sources gained or lost rows.  Numbers are compared as a
reader sees them (the same text authority), so a change below the shown precision is not
announced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from reportgen import text
from reportgen.report.model.report_model import ReportModel

#: at most this many restated numbers are named; the rest are counted
LISTED = 4


@dataclass(frozen=True)
class SentNumbers:
    """What a delivered run of the same report and period told its readers."""

    run_id: int
    sent_at: datetime
    #: per metric id, the run record's numbers (``run.publishing.metric_record``)
    metrics: Mapping[str, Mapping[str, Any]]
    #: per source, the period's rows the run read
    row_counts: Mapping[str, int] = field(default_factory=dict)


def _shown(record: Mapping[str, Any]) -> str | None:
    if record.get("value") is None or record.get("suppressed"):
        return None
    return text.value(record["value"], record["unit"])


def restatements(model: ReportModel, sent: SentNumbers | None) -> tuple[str, ...]:
    """The restatement notes of ``model`` against what was sent (none when nothing was
    sent for the period, or every number reads as it did)."""
    if sent is None:
        return ()
    changed: list[str] = []
    for metric_id, result in model.metrics.items():
        before = sent.metrics.get(metric_id)
        if before is None:
            continue
        was = _shown(before)
        now = (text.value(result.value, result.unit)
               if result.value is not None and not result.suppressed else None)
        if was is not None and now is not None and was != now:
            changed.append(f"{result.label} was {was} (sent {text.day(sent.sent_at)}), "
                           f"now {now}")
    if not changed:
        return ()
    lead = f"Restated: {model.period.label} " + "; ".join(changed[:LISTED])
    if len(changed) > LISTED:
        lead += f"; and {text.count(len(changed) - LISTED)} more"
    return (lead + ".", *_row_notes(model.provenance.row_counts, sent.row_counts))


def with_restatements(model: ReportModel, sent: SentNumbers | None) -> ReportModel:
    """``model`` with its restatement notes and the numbers they compare with (unchanged
    when nothing reads differently)."""
    notes = restatements(model, sent)
    if not notes or sent is None:
        return model
    rows = model.provenance.row_counts
    return replace(model, restatements=notes, restated_from={
        "sent_at": sent.sent_at,
        "values": {k: v.get("value") for k, v in sent.metrics.items()},
        "row_counts": dict(sent.row_counts),
        "row_changes": {k: abs(rows[k] - v) for k, v in sent.row_counts.items() if k in rows}})


def _row_notes(now: Mapping[str, int], before: Mapping[str, int]) -> Sequence[str]:
    notes = []
    for source, rows in now.items():
        earlier = before.get(source)
        if earlier is None or earlier == rows:
            continue
        moved = "gained" if rows > earlier else "lost"
        notes.append(f"The {source} source {moved} {text.plural(abs(rows - earlier), 'row')} "
                     f"for the period since then.")
    return notes
