"""Planted effects: each seeded dataset hides one effect, and the findings must name exactly it.

"Nothing else is named" is itself a statistical statement: at alpha = 0.05 an unchanged
queue is named in about one seeded dataset in twenty (Holm controls the chance, it cannot
remove it).  The tests that assert it run at alpha = 0.01 so that a change of seed is
very unlikely to break them; the effects planted are far beyond either level.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pytest
from support.plans import plan_of
from test_insights_support import (
    PERIOD,
    change_words,
    claims,
    compute,
    definition,
    instants,
    score_rows,
    scorecard_rows,
    survey_rows,
    window,
)

from reportgen.insights import build_insights
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.report.model.sections import Finding

CSAT = {"id": "csat", "calculator": "csat", "source": "survey", "label": "CSAT",
        "by": ["queue"], "target": 0.8}
QUEUES = {"Billing": 2000, "Payments": 800, "Onboarding": 600, "Shipping": 500, "Technical": 400}


def _only(findings: tuple[Finding, ...], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def test_one_queue_dropping_eight_points_is_named_and_nothing_else() -> None:
    rng = np.random.default_rng(11)
    history = window(4)
    cells = [(p, q, n, 0.77 if (q == "Billing" and p == PERIOD) else 0.85)
             for p in history for q, n in QUEUES.items()]
    defn = definition([CSAT], alpha=0.01)
    frames = {"survey": survey_rows(rng, cells)}
    findings = build_insights(plan_of(defn), compute(defn, frames, history), frames, PERIOD, history)

    segment = _only(findings, "segment_change")
    assert [(f.scope, f.direction, f.tone) for f in segment] == \
        [("queue = Billing", "declined", "bad")]
    assert segment[0].metric_id == "csat"
    assert segment[0].numbers["p_adjusted"] < 0.01
    assert -0.13 < segment[0].numbers["delta"] < -0.03  # 8 points, give or take 3 SE
    assert "Billing" in segment[0].sentence and "points" in segment[0].sentence
    overall = _only(findings, "significant_change")
    assert [(f.scope, f.direction) for f in overall] == [("overall", "declined")]
    # The split of the overall fall puts it inside Billing, not in the mix of queues.
    driver = _only(findings, "driver")[0]
    assert driver.numbers["dominant"] == "rate"
    assert driver.numbers["leading"][0] == "Billing"
    # It says the fall the change finding says (read off the two shown values), and its
    # two parts add up to it as shown.
    fell = re.search(r"fell ([\d.]+) points", overall[0].sentence)
    assert fell is not None and driver.sentence.startswith(f"CSAT fell {fell[1]} points: ")
    parts = re.findall(r"for ([+−]?[\d.]+) points", driver.sentence)
    assert len(parts) == 2
    assert round(sum(float(p.replace("−", "-")) for p in parts), 1) == -float(fell[1]), \
        driver.sentence
    # No other queue is claimed to have moved.
    assert {f.scope for f in claims(findings)} <= {"overall", "queue = Billing", "by queue"}
    assert findings == tuple(sorted(findings, key=lambda f: -f.severity))


def test_a_pure_mix_shift_is_attributed_to_mix() -> None:
    rng = np.random.default_rng(5)
    history = window(3)
    rates = {"Billing": 0.70, "Payments": 0.92, "Onboarding": 0.82}
    volumes = {"before": {"Billing": 500, "Payments": 1500, "Onboarding": 1000},
               "now": {"Billing": 1300, "Payments": 700, "Onboarding": 1000}}
    cells = [(p, q, volumes["now" if p == PERIOD else "before"][q], rates[q])
             for p in history for q in rates]
    defn = definition([CSAT])
    frames = {"survey": survey_rows(rng, cells, exact=True)}
    metrics = compute(defn, frames, history)
    findings = build_insights(plan_of(defn), metrics, frames, PERIOD, history)

    driver = _only(findings, "driver")
    assert len(driver) == 1
    numbers = driver[0].numbers
    assert numbers["dominant"] == "mix"
    assert abs(numbers["rate"]) < 1e-12
    assert numbers["mix"] == pytest.approx(metrics["csat"].change.delta, abs=1e-12)
    assert driver[0].direction == "declined" and driver[0].scope == "by queue"
    assert "shift in volume" in driver[0].sentence
    # Every queue's own rate is unchanged, so no queue is claimed to have moved.
    assert _only(findings, "segment_change") == []


def test_a_defect_category_that_doubles_is_named_as_a_growing_top_cause() -> None:
    rng = np.random.default_rng(3)
    history = window(3)
    base = {"Correct information": 0.06, "Tone": 0.05, "Process": 0.04, "Resolution": 0.03,
            "Empathy": 0.02, "Greeting": 0.01}
    now = {**base, "Correct information": 0.12}
    cells = [(p, "Support", 3000, now if p == PERIOD else base) for p in history]
    defects = {"id": "defects", "calculator": "defect_rate", "source": "qa",
               "label": "Defect rate", "by": ["category"]}
    defn = definition([defects], alpha=0.01)
    frames = {"qa": scorecard_rows(rng, cells)}
    findings = build_insights(plan_of(defn), compute(defn, frames, history), frames, PERIOD, history)

    growth = _only(findings, "cause_growth")
    assert [(f.scope, f.direction, f.tone) for f in growth] == \
        [("category = Correct information", "declined", "bad")]
    ratio = growth[0].numbers["value"] / growth[0].numbers["previous"]
    assert 1.4 < ratio < 2.8  # doubled, give or take 3 SE
    top = _only(findings, "top_causes")[0]
    assert top.numbers["categories"][0]["category"] == "Correct information"
    assert top.numbers["grew"] == ["Correct information"]
    assert sum(c["share"] for c in top.numbers["categories"]) >= 0.8
    assert "Correct information grew significantly" in top.sentence
    assert {f.scope for f in claims(findings)} <= {
        "overall", "category = Correct information", "by category"}


def test_an_intervention_that_lifts_qa_score_is_measured_and_held() -> None:
    rng = np.random.default_rng(8)
    history = window(12)
    start = date(2026, 6, 1)
    cells = [(p, q, n, 84.0 if (q == "Onboarding" and p.start >= start) else 78.0)
             for p in history for q, n in (("Onboarding", 80), ("Billing", 120))]
    qa = {"id": "qa", "calculator": "qa_score", "source": "qa", "label": "QA score"}
    coaching = {"name": "Onboarding coaching", "date": start.isoformat(), "metric": "qa",
                "scope": {"queue": "Onboarding"}, "expected": "improve"}
    defn = definition([qa], interventions=[coaching])
    frames = {"qa": score_rows(rng, cells)}
    findings = build_insights(plan_of(defn), compute(defn, frames, history), frames, PERIOD, history)

    found = _only(findings, "intervention")
    assert len(found) == 1
    item = found[0]
    assert (item.metric_id, item.scope, item.direction, item.tone) == \
        ("qa", "queue = Onboarding", "improved", "good")
    assert item.numbers["status"] == "held"
    assert 4.0 < item.numbers["delta"] < 8.0
    assert item.numbers["p_value"] < 0.001
    assert item.numbers["effect_measure"] == "Cohen's d" and 0.3 < item.numbers["effect_size"] < 0.7
    assert all(p["held"] for p in item.numbers["periods"])
    assert item.numbers["latest_significant"]
    assert "Onboarding coaching" in item.sentence and "held" in item.sentence


def test_an_intervention_before_the_window_says_there_is_too_little_before_data() -> None:
    rng = np.random.default_rng(2)
    history = window(3)
    cells = [(p, "Onboarding", 80, 80.0) for p in history]
    qa = {"id": "qa", "calculator": "qa_score", "source": "qa", "label": "QA score"}
    early = {"name": "New macro", "date": "2026-01-15", "metric": "qa", "expected": "improve"}
    defn = definition([qa], interventions=[early])
    frames = {"qa": score_rows(rng, cells)}
    findings = build_insights(plan_of(defn), compute(defn, frames, history), frames, PERIOD, history)

    item = _only(findings, "intervention")[0]
    assert item.numbers["status"] == "insufficient_before"
    assert item.direction == "none" and item.tone == "warning"
    assert "too little data before" in item.sentence
    assert change_words(item.sentence) == []


def test_off_target_streak_and_small_samples() -> None:
    rng = np.random.default_rng(4)
    history = window(5)
    cells = [(p, q, n, 0.70) for p in history for q, n in (("Billing", 400), ("Legal", 12))]
    defn = definition([CSAT], streak=3)
    frames = {"survey": survey_rows(rng, cells)}
    findings = build_insights(plan_of(defn), compute(defn, frames, history), frames, PERIOD, history)

    streak = _only(findings, "target_streak")
    assert len(streak) == 1 and streak[0].numbers["streak"] == 5
    assert "5 months running" in streak[0].sentence and streak[0].tone == "bad"
    small = [f for f in _only(findings, "small_sample") if f.scope == "by queue"]
    assert len(small) == 1 and "Legal (n = 12)" in small[0].sentence
    assert not any("Legal" in f.scope for f in claims(findings))


def test_a_contact_reason_taking_a_larger_share_of_volume_is_named() -> None:
    rng = np.random.default_rng(14)
    history = window(2)
    reasons = np.array(["Refund", "Delivery", "Login", "Invoice", "Other"], dtype=object)
    before = np.array([0.10, 0.35, 0.25, 0.20, 0.10])
    now = np.concatenate([[0.20], before[1:] * 0.8 / 0.9])  # the rest shrink in proportion
    parts = []
    for period, shares in zip(history, (before, now), strict=True):
        picked = reasons[rng.choice(len(reasons), size=2000, p=shares)]
        parts.append(pd.DataFrame({"created": instants(rng, period, 2000),
                                   "contact_reason": picked, PERIOD_COLUMN: period.key}))
    contacts = {"id": "contacts", "calculator": "volume", "source": "survey",
                "label": "Contacts", "by": ["contact_reason"], "direction": "lower"}
    defn = definition([contacts], alpha=0.01)
    frames = {"survey": pd.concat(parts, ignore_index=True)}
    findings = build_insights(plan_of(defn), compute(defn, frames, history), frames, PERIOD, history)

    growth = _only(findings, "cause_growth")
    assert [(f.scope, f.direction, f.numbers["measure"]) for f in growth] == \
        [("contact_reason = Refund", "declined", "share")]
    assert 0.17 < growth[0].numbers["value"] < 0.23 and growth[0].numbers["p_adjusted"] < 0.01
    assert _only(findings, "top_causes")[0].numbers["grew"] == ["Refund"]


@pytest.mark.parametrize("after_means, status, direction", [
    ((86.0, 86.0, 86.0, 78.0, 78.0), "faded", "improved"),
    ((72.0, 72.0, 72.0, 72.0, 72.0), "against_expectation", "declined"),
])
def test_an_intervention_that_fades_or_backfires_says_so(
        after_means: tuple[float, ...], status: str, direction: str) -> None:
    rng = np.random.default_rng(10)
    history = window(10)
    means = [78.0] * 5 + list(after_means)
    cells = [(p, "Onboarding", 120, mean) for p, mean in zip(history, means, strict=True)]
    qa = {"id": "qa", "calculator": "qa_score", "source": "qa", "label": "QA score"}
    item = {"name": "Checklist", "date": history[5].start.isoformat(), "metric": "qa",
            "expected": "improve"}
    defn = definition([qa], interventions=[item])
    frames = {"qa": score_rows(rng, cells)}
    findings = build_insights(plan_of(defn), compute(defn, frames, history), frames, PERIOD, history)

    found = _only(findings, "intervention")[0]
    assert (found.numbers["status"], found.direction) == (status, direction)
    assert ("not held" in found.sentence) == (status == "faded")
    assert ("opposite of what was expected" in found.sentence) == (status != "faded")
