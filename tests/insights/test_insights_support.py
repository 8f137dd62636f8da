"""Seeded synthetic sources for the insight tests: small frames with effects planted on purpose.

Builders only (no tests here): a definition, survey / scorecard / calibration rows over a
window of months, and the metrics computed by the real engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from support.metric_frames import compute_metric

from reportgen.definition.document import Definition
from reportgen.insights.text import CHANGE_WORDS
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.period import Period
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Finding

TZ = "Europe/Berlin"
PERIOD = Period(date(2026, 10, 1), "month", TZ)
_CHANGE = re.compile(r"\b(" + "|".join(CHANGE_WORDS) + r")\b", re.IGNORECASE)


def window(months: int) -> list[Period]:
    return PERIOD.trailing(months)


def definition(metrics: Sequence[Mapping[str, Any]], *, alpha: float = 0.05, min_n: int = 30,
               interventions: Sequence[Mapping[str, Any]] = (), streak: int = 3,
               summary: list[str] | None = None) -> Definition:
    """A definition over sources 'survey', 'qa' and 'calibration' (their files are never read)."""
    def source(time_column: str) -> dict[str, Any]:
        return {"kind": "csv", "path": "unused.csv", "time_column": time_column}

    return Definition.model_validate({
        "id": "insights-test", "title": "Insights test",
        "period": {"grain": "month", "timezone": TZ},
        "statistics": {"alpha": alpha, "min_n": min_n},
        "sources": {"survey": source("created"), "qa": source("reviewed_at"),
                    "calibration": source("session_at")},
        "metrics": list(metrics),
        "sections": [{"id": "main", "title": "Main", "kpis": [m["id"] for m in metrics]}],
        "summary": summary,
        "interventions": list(interventions),
        "insights": {"streak_periods": streak},
    })


def instants(rng: np.random.Generator, period: Period, n: int) -> pd.DatetimeIndex:
    """``n`` instants spread uniformly over ``period``, in its timezone."""
    start = pd.Timestamp(period.start_at)
    span = (pd.Timestamp(period.end_at) - start).total_seconds()
    return start + pd.to_timedelta(np.sort(rng.random(n)) * span, unit="s")


def survey_rows(rng: np.random.Generator, cells: Iterable[tuple[Period, str, int, float]], *,
                exact: bool = False, channel: bool = False) -> pd.DataFrame:
    """CSAT responses: per (period, queue, n, satisfied share) cell, ratings of 5 or 2.

    ``exact`` makes each cell's satisfied count exactly ``round(n x share)`` (no sampling
    noise), so segment rates are identical across periods when the shares are.
    """
    parts = []
    for period, queue, n, share in cells:
        if exact:
            good = np.zeros(n, dtype=bool)
            good[: int(round(n * share))] = True
            rng.shuffle(good)
        else:
            good = rng.random(n) < share
        part = pd.DataFrame({"created": instants(rng, period, n), "queue": queue,
                             "rating": np.where(good, 5, 2), PERIOD_COLUMN: period.key})
        if channel:
            part["channel"] = rng.choice(["Email", "Chat", "Phone"], size=n)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def scorecard_rows(rng: np.random.Generator,
                   cells: Iterable[tuple[Period, str, int, Mapping[str, float]]]) -> pd.DataFrame:
    """Scorecard ratings (1-4) in long format: per (period, queue, reviews, {category: defect
    probability}) cell, one row per review x category; a defect is rated 2, else 4."""
    parts, next_id = [], 0
    for period, queue, reviews, categories in cells:
        ids = np.arange(next_id, next_id + reviews)
        next_id += reviews
        when = instants(rng, period, reviews)
        for category, p_defect in categories.items():
            defect = rng.random(reviews) < p_defect
            parts.append(pd.DataFrame({
                "review_id": ids, "reviewed_at": when, "queue": queue, "category": category,
                "rating": np.where(defect, 2, 4), "weight": 1.0, "critical": 0,
                "scale_min": 1, "scale_max": 4, PERIOD_COLUMN: period.key}))
    return pd.concat(parts, ignore_index=True)


def score_rows(rng: np.random.Generator,
               cells: Iterable[tuple[Period, str, int, float]], sd: float = 12.0) -> pd.DataFrame:
    """QA reviews with one 0-100 category each: per (period, queue, reviews, mean score) cell."""
    parts, next_id = [], 0
    for period, queue, reviews, mean in cells:
        score = np.clip(np.round(rng.normal(mean, sd, reviews)), 0, 100)
        parts.append(pd.DataFrame({
            "review_id": np.arange(next_id, next_id + reviews),
            "reviewed_at": instants(rng, period, reviews), "queue": queue,
            "category": "Overall", "rating": score, "weight": 1.0, "critical": 0,
            "scale_min": 0, "scale_max": 100, PERIOD_COLUMN: period.key}))
        next_id += reviews
    return pd.concat(parts, ignore_index=True)


def compute(defn: Definition, frames: Mapping[str, pd.DataFrame],
            history: Sequence[Period]) -> dict[str, MetricResult]:
    """Every metric of ``defn`` by the real engine."""
    return {spec.id: compute_metric(spec, frames[spec.source], PERIOD, history, defn.statistics)
            for spec in defn.metrics}


def claims(findings: Iterable[Finding]) -> list[Finding]:
    """Findings that claim a statistically supported move."""
    return [f for f in findings
            if f.direction in ("improved", "declined") or f.numbers.get("significant")]


def change_words(sentence: str) -> list[str]:
    """Every word in ``sentence`` that states a movement."""
    return _CHANGE.findall(sentence)
