"""Seeded, realistic demo data for a support-quality team, with planted stories.

``generate_demo_data`` writes, for ``months`` whole calendar months ending with
``end_month``, one SQLite file (``reportgen_demo.sqlite``), one CSV per table and
``stories.json``.  The same (seed, end_month, months) always gives the same bytes (with the
same numpy and SQLite versions, whose random streams and file format it relies on).

Tables (column lists in ``reportgen.demo.writer.SCHEMA``): ``tickets``,
``csat_responses``, ``qa_reviews``, ``qa_ratings`` (one row per review and category),
``qa_review_ratings`` (a view: ratings with their review's columns), ``calibration_scores``,
``calibration_reviews``, ``moderation_decisions``, ``qa_disputes`` (agents' disputes of
defect ratings), ``qa_auto_scores`` (an automatic scorer's ratings beside the human ones),
``qa_sample`` (every ticket drawn for audit: audited, skipped or replaced), ``qa_auto_only``
(the automatic scorer's ratings of tickets no reviewer audited, with the reviewer who
confirmed them), ``ticket_followups`` (whether the customer came back within 7 days) and
``contact_archive`` (the contacts of the 23 months before the span, from the helpdesk used
then: month, queue and reason).
The tables added last draw on random streams of their own, so the earlier tables are the
same bytes with or without them.

Conventions: timestamps are UTC text ``YYYY-MM-DD HH:MM:SS`` (naive), so string order is
time order; flags are integers 0/1; IDs are strings; NULL means unknown or not applicable.
The data is a snapshot taken at midnight UTC after ``end_month``: tickets not solved by
then have no ``solved_at``, and tickets with no reply yet have no first-response time and
a NULL ``sla_met``.  A QA *defect* is a rating in the lower half of its scale
(``rating <= scale_min + (scale_max - scale_min) / 2``); see ``reportgen.demo.qa``.
The planted stories need about six months to show against a baseline (13 give the full
picture); ``stories.json`` and ``DemoDataset.stories`` describe them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from reportgen.demo import writer
from reportgen.demo.actions import write_actions
from reportgen.demo.archive import generate_archive
from reportgen.demo.audit import generate_sample
from reportgen.demo.automatic import drift_and_checks, generate_automatic_only
from reportgen.demo.calibration import generate_calibration
from reportgen.demo.followups import generate_followups
from reportgen.demo.languages import decision_languages, ticket_languages
from reportgen.demo.moderation import generate_decisions
from reportgen.demo.programme import generate_auto_scores, generate_disputes
from reportgen.demo.qa import generate_reviews
from reportgen.demo.staff import make_staff
from reportgen.demo.stories import Story, StoryDates, planted_stories
from reportgen.demo.surveys import generate_responses
from reportgen.demo.tickets import generate_tickets
from reportgen.demo.timeline import Timeline, as_text
from reportgen.demo.unreviewed import ticket_ratings
from reportgen.errors import PeriodError
from reportgen.period import Period

__all__ = ["DemoDataset", "Story", "generate_demo_data"]

# Independent random streams per table, so changing one generator leaves the others' data
# untouched.  The survey and QA stream numbers were picked so that the default seed's history
# has no chance outlier (|z| > 3 for a queue in a month) to distract from the planted
# stories; every seed carries the stories themselves.
_STREAMS = {"staff": 1, "tickets": 2, "surveys": 13, "qa": 14, "calibration": 5, "moderation": 6,
            "disputes": 21, "auto_scores": 22, "audit_sample": 31, "unreviewed": 32,
            "automatic_only": 33, "followups": 34, "archive": 35, "languages": 36,
            "auto_checks": 37}


@dataclass(frozen=True)
class DemoDataset:
    """Where the demo data was written and what it contains."""

    directory: Path
    sqlite_path: Path
    csv_paths: Mapping[str, Path]
    row_counts: Mapping[str, int]
    end_month: date
    stories: tuple[Story, ...]


def generate_demo_data(
    out_dir: Path,
    *,
    seed: int = 7,
    end_month: date | None = None,
    months: int = 13,
    now: datetime | None = None,
) -> DemoDataset:
    """Generate the demo tables into ``out_dir`` and describe what was written.

    ``end_month`` is the first day of the last complete month in the data; it defaults to
    the month before ``now`` (UTC; ``now`` defaults to the current time and must be
    timezone-aware).  Each file is written under a temporary name and renamed when complete.
    """
    if months < 1:
        raise PeriodError(f"the demo data must span at least 1 month, got months={months}")
    if end_month is None:
        end_month = Period.last_complete(now or datetime.now(UTC), "month").start
    Period(end_month, "month")  # raises PeriodError unless it is the first of a month
    timeline = Timeline(end_month, months)
    dates = StoryDates.for_end_month(end_month)
    frames = build_frames(seed, timeline, dates)
    stories = planted_stories(end_month)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = {name: writer.python_columns(frame) for name, frame in frames.items()}
    csv_paths = {name: out_dir / f"{name}.csv" for name in frames}
    for name, values in columns.items():
        writer.write_csv(csv_paths[name], values)
    sqlite_path = out_dir / writer.SQLITE_NAME
    writer.write_sqlite(sqlite_path, columns)
    writer.write_json(out_dir / writer.STORIES_NAME, {
        "seed": seed,
        "end_month": end_month.isoformat(),
        "months": months,
        "first_month": str(timeline.month_starts[0]),
        "stories": [story.to_json() for story in stories],
    })
    write_actions(out_dir, end_month)
    return DemoDataset(
        directory=out_dir,
        sqlite_path=sqlite_path,
        csv_paths=MappingProxyType(csv_paths),
        row_counts=MappingProxyType({name: len(frame) for name, frame in frames.items()}),
        end_month=end_month,
        stories=stories,
    )


def build_frames(seed: int, timeline: Timeline, dates: StoryDates) -> dict[str, pd.DataFrame]:
    """Every table as a DataFrame in export column order (pure: no files, no clock)."""

    def rng(stream: str) -> np.random.Generator:
        return np.random.default_rng([seed, _STREAMS[stream]])

    people = make_staff(rng("staff"))
    work = generate_tickets(rng("tickets"), timeline, dates, people.agents, people.customers)
    skill = people.agents.skill[work["agent_idx"].to_numpy()]
    responses = generate_responses(rng("surveys"), timeline, dates, work, skill)
    reviews, ratings = generate_reviews(rng("qa"), timeline, dates, work, skill,
                                        people.auditor_bias)
    scores, calibration_reviews = generate_calibration(rng("calibration"), timeline, dates, work,
                                                       people.auditor_bias)
    disputes = generate_disputes(rng("disputes"), timeline, reviews, ratings)
    auto_scores = generate_auto_scores(rng("auto_scores"), reviews, ratings)
    decisions = generate_decisions(rng("moderation"), timeline, dates,
                                   people.moderator_accuracy)
    sample = generate_sample(rng("audit_sample"), timeline, work, reviews)
    solved_rows, quality = ticket_ratings(rng("unreviewed"), timeline, dates, work, skill,
                                          reviews, ratings)
    automatic_only = generate_automatic_only(rng("automatic_only"), timeline, dates, work,
                                             reviews, solved_rows, quality)
    followups = generate_followups(rng("followups"), timeline, work, solved_rows, quality)
    archive = generate_archive(rng("archive"), timeline, dates, work)
    automatic_only, auto_checks = drift_and_checks(rng("auto_checks"), timeline, work,
                                                   automatic_only, solved_rows, quality)
    spoken = rng("languages")
    languages = ticket_languages(spoken, work, reviews, ratings)
    decisions = decisions.assign(language=decision_languages(spoken, decisions))

    tickets = work.assign(
        created_at=pd.Series(as_text(work["created"].to_numpy()), dtype=object),
        solved_at=pd.Series(as_text(work["solved"].to_numpy()), dtype=object),
    )
    review_ratings = ratings.merge(
        reviews[["review_id", *writer.REVIEW_COLUMNS_IN_VIEW]], on="review_id", how="left",
        validate="many_to_one",
    )
    frames = {
        "tickets": tickets,
        "csat_responses": responses,
        "qa_reviews": reviews,
        "qa_ratings": ratings,
        "qa_review_ratings": review_ratings,
        "calibration_scores": scores,
        "calibration_reviews": calibration_reviews,
        "moderation_decisions": decisions,
        "qa_disputes": disputes,
        "qa_auto_scores": auto_scores,
        "qa_sample": sample,
        "qa_auto_only": automatic_only,
        "ticket_followups": followups,
        "contact_archive": archive,
        "qa_auto_checks": auto_checks,
        "ticket_languages": languages,
    }
    return {name: frame[writer.columns(name)].reset_index(drop=True)
            for name, frame in frames.items()}
