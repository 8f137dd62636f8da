"""Null simulations: a report's claims about a metric stay within alpha per family.

Data are drawn with nothing changed and every segment exactly on target; the engine then
evaluates them as in a report, and we count the runs where it claims anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pytest
from support.plans import metric_plan

from reportgen.definition.content_specs import MetricSpec, StatisticsSpec
from reportgen.metrics.engine import ResolvedMetric, evaluate
from reportgen.metrics.estimates import Proportion
from reportgen.metrics.verdicts import holm_family
from reportgen.period import Period
from reportgen.report.model.metric_results import Change

PERIOD = Period(date(2026, 10, 1), "month")
#: the periods compared (a report's history holds more; these are the ones tested)
HISTORY = [PERIOD.same_period_last_year(), PERIOD.previous(), PERIOD]


class Drawn:
    """A metric's data: one Proportion per period and per segment, drawn beforehand."""

    def __init__(self, overall: Mapping[str, Proportion],
                 segments: Mapping[str, dict[tuple[str, ...], Proportion]]):
        self.overall, self.by_period = overall, segments

    def estimate(self, period: Period) -> Proportion:
        return self.overall.get(period.key, Proportion(0, 0))

    def segments(self, columns: tuple[str, ...], period: Period) -> dict[tuple[str, ...], Proportion]:
        return self.by_period.get(period.key, {})

    def details(self, period: Period, history: Sequence[Period]) -> dict:
        return {}


def plan(target: float | None, by: list[str] | None = None) -> ResolvedMetric:
    spec = MetricSpec(id="csat", calculator="csat", source="s", target=target, by=by or [])
    return metric_plan(spec, StatisticsSpec(alpha=0.05, confidence=0.95, min_n=30))


def test_previous_period_and_year_over_year_claims_are_one_family() -> None:
    rng = np.random.default_rng(2026)
    runs, rate, n = 1500, 0.8, 400
    claimed = claimed_unadjusted = 0
    metric = plan(None)
    for _ in range(runs):
        overall = {p.key: Proportion(float(rng.binomial(n, rate)), float(n))
                   for p in (PERIOD, PERIOD.previous(), PERIOD.same_period_last_year())}
        result = evaluate(metric, Drawn(overall, {}), PERIOD, HISTORY)
        assert result.change is not None and result.year_over_year is not None
        claimed += result.change.significant or result.year_over_year.significant
        now = overall[PERIOD.key]
        claimed_unadjusted += any(
            now.compare(overall[p.key], 0.05).significant
            for p in (PERIOD.previous(), PERIOD.same_period_last_year()))
    assert claimed / runs <= 0.05 + 0.01  # alpha, plus about two Monte Carlo standard errors
    assert claimed_unadjusted / runs > 0.07  # each test at full alpha: nearly twice alpha


def test_segments_on_target_are_not_called_off_target() -> None:
    rng = np.random.default_rng(77)
    runs, n, segments, rate = 600, 150, 10, 0.85
    metric = plan(rate, by=["queue"])
    claimed = claimed_unadjusted = 0
    for _ in range(runs):
        drawn = {(f"s{i}",): Proportion(float(rng.binomial(n, rate)), float(n))
                 for i in range(segments)}
        total = Proportion(sum(p.successes for p in drawn.values()), float(n * segments))
        result = evaluate(metric, Drawn({PERIOD.key: total}, {PERIOD.key: drawn}),
                          PERIOD, [PERIOD])
        claimed += any(r.status == "off_target" for r in result.breakdowns["queue"])
        claimed_unadjusted += any(est.interval(0.95).high < rate  # type: ignore[union-attr]
                                  for est in drawn.values())
    assert claimed / runs <= 0.05
    assert claimed_unadjusted / runs > 0.12  # each segment judged at the metric's own level


@pytest.mark.parametrize("target", [0.85, 0.87])
def test_a_breakdown_near_target_names_one_off_target_in_at_most_half_alpha(
        target: float) -> None:
    """Five segments of about 60 answers, each truly at the target: the breakdown names a
    segment off target in at most (1 - confidence) / 2 = 2.5% of reports (the Wilson
    bound at the Bonferroni level did in 4.1% at 0.85)."""
    rng = np.random.default_rng(int(target * 100))
    runs, segments = 4000, 5
    metric = plan(target, by=["queue"])
    claimed = wilson = 0
    for _ in range(runs):
        sizes = rng.integers(50, 71, size=segments)
        drawn = {(f"s{i}",): Proportion(float(rng.binomial(n, target)), float(n))
                 for i, n in enumerate(sizes)}
        total = Proportion(sum(p.successes for p in drawn.values()), float(sizes.sum()))
        result = evaluate(metric, Drawn({PERIOD.key: total}, {PERIOD.key: drawn}),
                          PERIOD, [PERIOD])
        claimed += any(r.status == "off_target" for r in result.breakdowns["queue"])
        wilson += any(est.interval(1 - 0.05 / segments).high < target  # type: ignore[union-attr]
                      for est in drawn.values())
    assert claimed / runs <= 0.025
    if target == 0.85:
        assert wilson / runs > 0.03  # the simulation can tell the bound that ran over


def test_holm_family_leaves_a_single_test_alone() -> None:
    change = Change(previous=0.5, previous_n=100, delta=0.1, test="two-proportion z-test",
                    statistic=2.1, p_value=0.03, significant=True, alpha=0.05)
    untested = Change(previous=0.5, previous_n=100, delta=0.1, test=None, statistic=None,
                      p_value=None, significant=False, alpha=0.05)
    assert holm_family(change, untested) == (change, untested)
    first, second = holm_family(change, Change(**{**change.__dict__, "p_value": 0.04}))
    # Holm: 0.03 x 2 = 0.06, then max(0.06, 0.04 x 1) = 0.06: neither is significant.
    assert first.p_value == pytest.approx(0.06) and second.p_value == pytest.approx(0.06)
    assert not first.significant and not second.significant
    assert first.test == "two-proportion z-test (Holm-adjusted, 2 comparisons)"


def test_holm_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    from reportgen.stats import significance

    p_values = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04]
    expected = multipletests(p_values, method="holm")[1]
    assert significance.holm(p_values) == pytest.approx(list(expected))
    assert significance.holm([0.02, None, float("nan")]) == [0.02, None, None]
    for alpha in (0.05, 0.1):
        reject, adjusted, _, _ = multipletests(p_values, alpha=alpha, method="holm")
        ours_adjusted, ours_reject = significance.holm_rejections(p_values, alpha)
        assert ours_adjusted == pytest.approx(list(adjusted))
        assert ours_reject == list(reject)
