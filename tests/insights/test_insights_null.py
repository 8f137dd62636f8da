"""With no effect in the data, the findings claim a change no more often than alpha allows.

Two hundred seeded datasets, each CSAT by ten queues and three channels with every segment
at the same 85% in both months.  Running the full engine two hundred times would spend
most of the test in pandas plumbing, so each run's MetricResult is assembled from the
counts with the engine's own estimates, tests and rules (``Proportion``, ``suppression``,
``target_status``); the first runs are checked against ``compute_metric`` on the very same
rows, so the shortcut cannot drift from the engine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom
from support.plans import plan_of
from test_insights_support import PERIOD, claims, compute, definition, window

from reportgen.definition.content_specs import MetricSpec
from reportgen.definition.document import Definition
from reportgen.insights import build_insights
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.metrics.estimates import Proportion
from reportgen.metrics.verdicts import Settings, suppression, target_status
from reportgen.report.model.metric_results import (
    BreakdownRow,
    Change,
    Interval,
    MetricResult,
    PeriodValue,
)

RUNS = 200
ALPHA = 0.10  # not the default, so the bound below is visibly the configured one
QUEUES = np.array([f"Queue {i}" for i in range(10)], dtype=object)
CHANNELS = np.array(["Chat", "Email", "Phone"], dtype=object)
PER_CELL = 60
CSAT = {"id": "csat", "calculator": "csat", "source": "survey", "label": "CSAT",
        "by": ["queue", "channel"], "target": 0.8}


def _no_effect_frame(rng: np.random.Generator, history: list) -> pd.DataFrame:
    """Every queue and channel at the same 85% CSAT in every month (one vectorised frame)."""
    size = len(history) * len(QUEUES) * PER_CELL
    month = np.repeat(np.arange(len(history)), len(QUEUES) * PER_CELL)
    starts = pd.DatetimeIndex([p.start_at for p in history])
    return pd.DataFrame({
        "created": starts[month] + pd.to_timedelta(rng.random(size) * 27 * 86400, unit="s"),
        "queue": np.tile(np.repeat(QUEUES, PER_CELL), len(history)),
        "channel": CHANNELS[rng.integers(0, len(CHANNELS), size)],
        "rating": np.where(rng.random(size) < 0.85, 5, 2),
        PERIOD_COLUMN: np.array([p.key for p in history], dtype=object)[month],
    })


def _metric_from_counts(defn: Definition, frame: pd.DataFrame, history: list,
                        intervals: bool = True) -> MetricResult:
    """What compute_metric returns for this CSAT frame, built from counts (see the docstring).

    ``intervals=False`` leaves out the confidence intervals (the slowest part), which no
    change claim reads; the target status then falls back to the value alone.
    """
    spec: MetricSpec = defn.metrics[0]
    settings = Settings.for_metric(spec, defn.statistics)
    before_label = PERIOD.previous().label
    good = (frame["rating"].to_numpy() >= 4).astype(float)
    month = pd.Categorical(frame[PERIOD_COLUMN], categories=[p.key for p in history]).codes
    now_code, before_code = len(history) - 1, len(history) - 2

    def counts(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        """(satisfied, responses) per month x code."""
        cell = month * size + codes
        cells = len(history) * size
        return (np.bincount(cell, weights=good, minlength=cells).reshape(len(history), size),
                np.bincount(cell, minlength=cells).reshape(len(history), size))

    def interval(est: Proportion) -> Interval | None:
        return est.interval(settings.confidence) if intervals else None

    def compare(now: Proportion, before: Proportion) -> Change:
        return Change(**{**now.compare(before, settings.alpha).__dict__, "against": before_label})

    def status(est: Proportion) -> str | None:
        return target_status(est.value, spec.target, "higher", interval(est),
                             spec.at_risk_margin)

    breakdowns = {}
    for column in ("queue", "channel"):
        codes, labels = pd.factorize(frame[column], sort=True)
        satisfied, responses = counts(codes, len(labels))
        rows = []
        for i, key in enumerate(labels):
            now = Proportion(float(satisfied[now_code, i]), float(responses[now_code, i]))
            before = Proportion(float(satisfied[before_code, i]),
                                float(responses[before_code, i]))
            assert suppression(now, settings, key) is None
            rows.append(BreakdownRow(
                key=(str(key),), value=now.value, n=now.n, numerator=now.numerator,
                denominator=now.denominator, interval=interval(now),
                change=compare(now, before), status=status(now)))
        breakdowns[column] = tuple(rows)
    satisfied, responses = counts(np.zeros(len(frame), dtype=int), 1)
    totals = [Proportion(float(satisfied[i, 0]), float(responses[i, 0]))
              for i in range(len(history))]
    points = tuple(PeriodValue(period=p.key, label=p.short_label, start=p.start,
                               value=est.value, n=est.n, interval=interval(est),
                               numerator=est.numerator, denominator=est.denominator)
                   for p, est in zip(history, totals, strict=True))
    now, before = totals[now_code], totals[before_code]
    return MetricResult(
        metric_id=spec.id, label=spec.title, calculator=spec.calculator, unit="percent",
        direction="higher", value=now.value, n=now.n, numerator=now.numerator,
        denominator=now.denominator, interval=interval(now),
        change=compare(now, before), target=spec.target, status=status(now),
        breakdowns=breakdowns, history=points)


def test_counts_shortcut_matches_the_engine() -> None:
    history = window(2)
    defn = definition([CSAT], alpha=ALPHA)
    rng = np.random.default_rng(7)
    for _ in range(3):
        frame = _no_effect_frame(rng, history)
        engine = compute(defn, {"survey": frame}, history)["csat"]
        shortcut = _metric_from_counts(defn, frame, history)
        assert shortcut.value == engine.value and shortcut.status == engine.status
        assert shortcut.change == engine.change
        assert shortcut.history == engine.history
        assert set(shortcut.breakdowns) == set(engine.breakdowns)
        for name, rows in engine.breakdowns.items():
            assert shortcut.breakdowns[name] == rows


def test_no_effect_claims_at_most_alpha_across_metric_and_every_segment() -> None:
    history = window(2)
    defn = definition([CSAT], alpha=ALPHA)
    rng = np.random.default_rng(20261001)
    claimed = 0
    overall = 0
    for _ in range(RUNS):
        frame = _no_effect_frame(rng, history)
        metric = _metric_from_counts(defn, frame, history, intervals=False)
        overall += metric.significant
        findings = build_insights(plan_of(defn), {"csat": metric}, {"survey": frame}, PERIOD, history)
        claimed += bool(claims(findings))
    # Thirteen segments are scanned in every run; tested each at alpha, about
    # 1 - (1 - alpha)^14 = 77% of runs would claim something.
    bound = binom.ppf(0.999, RUNS, ALPHA) / RUNS
    assert claimed / RUNS <= bound, f"{claimed} of {RUNS} runs claimed a change (bound {bound})"
    # The overall test itself fires at about alpha: the data really are null.
    assert overall / RUNS == pytest.approx(ALPHA, abs=bound - ALPHA)


REASONS = np.array([f"Reason {i}" for i in range(8)], dtype=object)


def test_no_effect_claims_about_causes_at_most_alpha() -> None:
    """Contact reasons form their own Holm family (insights.segments): under no effect, the
    share of runs naming any reason as changed stays within alpha, through the real engine."""
    from reportgen.insights.context import InsightContext
    from reportgen.insights.segments import is_cause_breakdown

    history = window(2)
    spec = {"id": "csat", "calculator": "csat", "source": "survey", "label": "CSAT",
            "by": ["contact_reason"]}
    defn = definition([spec], alpha=ALPHA)
    rng = np.random.default_rng(20261122)
    starts = pd.DatetimeIndex([p.start_at for p in history])
    size = len(history) * len(REASONS) * PER_CELL
    month = np.repeat(np.arange(len(history)), len(REASONS) * PER_CELL)
    claimed = 0
    for run in range(RUNS):
        frame = pd.DataFrame({
            "created": starts[month] + pd.to_timedelta(rng.random(size) * 27 * 86400, unit="s"),
            "contact_reason": np.tile(np.repeat(REASONS, PER_CELL), len(history)),
            "rating": np.where(rng.random(size) < 0.85, 5, 2),
            PERIOD_COLUMN: np.array([p.key for p in history], dtype=object)[month],
        })
        metrics = compute(defn, {"survey": frame}, history)
        if run == 0:
            ctx = InsightContext.build(plan_of(defn), metrics, {"survey": frame}, PERIOD, history)
            assert is_cause_breakdown(ctx, metrics["csat"], "contact_reason")
        findings = build_insights(plan_of(defn), metrics, {"survey": frame}, PERIOD, history)
        claimed += bool([f for f in claims(findings) if f.scope != "overall"])
    bound = binom.ppf(0.999, RUNS, ALPHA) / RUNS
    assert claimed / RUNS <= bound, f"{claimed} of {RUNS} runs named a reason (bound {bound})"
