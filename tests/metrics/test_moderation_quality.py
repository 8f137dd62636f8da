"""moderation_quality: precision and recall against gold labels, checked with scikit-learn and
statsmodels on the same rows; the appeal overturn rate; the Pareto of errors; the findings."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from sklearn.metrics import precision_recall_fscore_support
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest
from support.metric_frames import compute_metric
from support.plans import plan_of

from reportgen.definition.document import Definition
from reportgen.insights.context import InsightContext
from reportgen.insights.moderation import moderation_findings
from reportgen.metrics import calculator
from reportgen.metrics.base import HistoryFrames
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.period import Period

TZ = "UTC"
SEP = Period(date(2026, 9, 1), "month", TZ)
AUG = SEP.previous()
AREAS = ("Spam", "Hate", "Nudity", "Violence")
LANGUAGES = ("en", "de")
ACTIONS = ("no_action", "restrict", "remove")


def decisions(seed: int, period: Period, n: int = 1600, *, overturn: float = 0.15,
              weak: tuple[str, str] | None = None) -> pd.DataFrame:
    """Gold-labelled moderation decisions.  Moderators have their own error rates (so
    decisions cluster); Spam and Hate are wrong most often; ``weak`` (area, language) misses
    half of what needs enforcing."""
    rng = np.random.default_rng(seed)
    area = rng.choice(AREAS, n, p=[0.3, 0.3, 0.2, 0.2])
    language = rng.choice(LANGUAGES, n)
    moderator = rng.integers(0, 40, n)
    slip = rng.uniform(0.02, 0.12, 40)[moderator] * np.where(np.isin(area, ["Spam", "Hate"]), 3, 1)
    gold = rng.choice(ACTIONS, n, p=[0.45, 0.2, 0.35])
    lenient = rng.choice(["no_action", "remove"], n)
    action = np.where(rng.random(n) < slip, np.where(gold == "no_action", "remove", lenient), gold)
    if weak is not None:
        cell = (area == weak[0]) & (language == weak[1]) & (gold != "no_action")
        action = np.where(cell & (rng.random(n) < 0.5), "no_action", action)
    gold = np.where(rng.random(n) < 0.1, None, gold)  # not sampled for QA: no gold label
    appealed = (action != "no_action") & (rng.random(n) < 0.3)
    overturned = np.where(appealed, (rng.random(n) < overturn).astype(float), np.nan)
    start = pd.Timestamp(period.start_at)
    return pd.DataFrame({
        "decided_at": start + pd.to_timedelta(rng.random(n) * 86400 * 28, unit="s"),
        "policy_area": area, "language": language, "moderator_id": [f"M{m}" for m in moderator],
        "action": action, "gold_action": gold, "appealed": appealed.astype(int),
        "overturned": overturned, PERIOD_COLUMN: period.key})


def _params(**values):
    return calculator("moderation_quality").Params.model_validate(values)


UNCLUSTERED = {"unclustered_because": "a test of the plain intervals",
               "cell_columns": ["policy_area", "language"]}


def _binary(frame: pd.DataFrame) -> pd.DataFrame:
    """The test's own reading of the rows: labelled ones, 1 = enforce."""
    labelled = frame.loc[frame["gold_action"].notna()]
    return labelled.assign(y_true=(labelled["gold_action"] != "no_action").astype(int),
                           y_pred=(labelled["action"] != "no_action").astype(int))


def test_precision_and_recall_match_scikit_learn_overall_and_per_cell():
    frame = decisions(1, SEP, weak=("Spam", "de"))
    details = calculator("moderation_quality").details(frame, _params(**UNCLUSTERED), None)
    rows = _binary(frame)
    precision, recall, _, _ = precision_recall_fscore_support(
        rows["y_true"], rows["y_pred"], average="binary", pos_label=1)
    assert details["overall"]["precision"] == pytest.approx(precision, abs=1e-12)
    assert details["overall"]["recall"] == pytest.approx(recall, abs=1e-12)
    assert details["overall"]["n"] == len(rows)
    cells = {(c["cell"]["policy_area"], c["cell"]["language"]): c for c in details["cells"]}
    assert len(cells) == len(AREAS) * len(LANGUAGES)
    for (area, language), part in rows.groupby(["policy_area", "language"]):
        p, r, _, _ = precision_recall_fscore_support(part["y_true"], part["y_pred"],
                                                     average="binary", pos_label=1)
        assert cells[(area, language)]["precision"] == pytest.approx(p, abs=1e-12)
        assert cells[(area, language)]["recall"] == pytest.approx(r, abs=1e-12)


@pytest.mark.parametrize(("method", "statsmodels_method"),
                         [("wilson", "wilson"), ("clopper_pearson", "beta")])
def test_unclustered_intervals_are_statsmodels_proportion_confint(method, statsmodels_method):
    frame = decisions(2, SEP)
    params = _params(**UNCLUSTERED, interval=method, confidence=0.9)
    details = calculator("moderation_quality").details(frame, params, None)
    rows = _binary(frame)
    for cell in [details["overall"], *details["cells"]]:
        part = rows if cell is details["overall"] else rows.loc[
            (rows["policy_area"] == cell["cell"]["policy_area"])
            & (rows["language"] == cell["cell"]["language"])]
        tp = int(((part["y_true"] == 1) & (part["y_pred"] == 1)).sum())
        for measure, among in (("precision", part["y_pred"].sum()),
                               ("recall", part["y_true"].sum())):
            low, high = proportion_confint(tp, among, alpha=0.1, method=statsmodels_method)
            assert (cell[f"{measure}_low"], cell[f"{measure}_high"]) == pytest.approx(
                (low, high), abs=1e-10)
    estimate = calculator("moderation_quality").estimate(frame, params)
    assert estimate.interval(0.9).low == pytest.approx(details["overall"]["precision_low"])


def test_clustered_interval_uses_statsmodels_cluster_robust_variance():
    # Precision as the intercept of an OLS of 'correct' on 1 over the enforced decisions:
    # statsmodels' cluster-robust variance / the binomial one is the design effect, and the
    # interval is Wilson's on n / deff x (z / t_{G-1})^2 (Korn & Graubard).
    frame = decisions(3, SEP)
    params = _params(cluster_column="moderator_id")
    details = calculator("moderation_quality").details(frame, params, None)
    rows = _binary(frame)
    enforced = rows.loc[rows["y_pred"] == 1]
    correct = enforced["y_true"].to_numpy(float)
    groups = pd.factorize(enforced["moderator_id"])[0]
    fit = sm.OLS(correct, np.ones(len(correct))).fit(cov_type="cluster",
                                                      cov_kwds={"groups": groups})
    n, p = len(correct), correct.mean()
    deff = max(1.0, float(fit.bse[0]) ** 2 / (p * (1 - p) / n))
    clusters = groups.max() + 1
    effective = n / deff * (sps.norm.ppf(0.975) / sps.t.ppf(0.975, clusters - 1)) ** 2
    low, high = proportion_confint(p * effective, effective, alpha=0.05, method="wilson")
    overall = details["overall"]
    assert overall["precision_design_effect"] == pytest.approx(deff, rel=1e-9)
    assert deff > 1.2  # moderators differ, so the clustered interval is wider
    assert (overall["precision_low"], overall["precision_high"]) == pytest.approx((low, high))
    plain = proportion_confint(enforced["y_true"].sum(), n, alpha=0.05, method="wilson")
    assert high - low > plain[1] - plain[0]


def test_cells_below_the_rest_are_tested_with_holm():
    frame = decisions(4, SEP, weak=("Spam", "de"))
    details = calculator("moderation_quality").details(frame, _params(**UNCLUSTERED), None)
    rows = _binary(frame)
    raw = []
    for cell in details["cells"]:
        mine = ((rows["policy_area"] == cell["cell"]["policy_area"])
                & (rows["language"] == cell["cell"]["language"]))
        should = rows["y_true"] == 1
        hits = [int((should & (rows["y_pred"] == 1) & m).sum()) for m in (mine, ~mine)]
        totals = [int((should & m).sum()) for m in (mine, ~mine)]
        _, p = proportions_ztest(hits, totals)
        assert cell["recall_p"] == pytest.approx(p)
        raw.append(p)
    adjusted = multipletests(raw, method="holm")[1]
    assert [c["recall_p_adjusted"] for c in details["cells"]] == pytest.approx(list(adjusted))
    named = [c["label"] for c, a in zip(details["cells"], adjusted, strict=True)
             if a < 0.05 and c["recall"] < c["recall_rest"]]
    assert named == ["Spam / de"]


def test_overturn_rate_and_its_change_against_the_previous_period():
    before, now = decisions(5, AUG, overturn=0.10), decisions(6, SEP, overturn=0.30)
    history = HistoryFrames([AUG, SEP], {AUG.key: before, SEP.key: now}, SEP)
    params = _params(**UNCLUSTERED)
    overturns = calculator("moderation_quality").details(now, params, history)["overturns"]
    k = [int(f["overturned"].eq(1).sum()) for f in (now, before)]
    n = [int(f["appealed"].sum()) for f in (now, before)]
    assert (overturns["overturned"], overturns["appealed"]) == (k[0], n[0])
    assert (overturns["previous_overturned"], overturns["previous_appealed"]) == (k[1], n[1])
    assert (overturns["low"], overturns["high"]) == pytest.approx(
        proportion_confint(k[0], n[0], method="wilson"))
    assert overturns["p_value"] == pytest.approx(proportions_ztest(k, n)[1])
    assert overturns["delta"] == pytest.approx(k[0] / n[0] - k[1] / n[1])


def _definition() -> Definition:
    metric = {"id": "moderation", "calculator": "moderation_quality", "source": "moderation",
              "label": "Moderation precision", "by": ["policy_area"],
              "params": {"cell_columns": ["policy_area", "language"],
                         "cluster_column": "moderator_id"}}
    return Definition.model_validate({
        "id": "moderation-test", "title": "Moderation test",
        "period": {"grain": "month", "timezone": TZ},
        "sources": {"moderation": {"kind": "csv", "path": "unused.csv",
                                   "time_column": "decided_at"}},
        "metrics": [metric],
        "sections": [{"id": "main", "title": "Main", "kpis": ["moderation"]}]})


def test_findings_name_the_weak_cell_the_overturn_rise_and_the_error_areas():
    definition = _definition()
    history = [AUG, SEP]
    frame = pd.concat([decisions(7, AUG, overturn=0.10),
                       decisions(8, SEP, overturn=0.30, weak=("Hate", "en"))], ignore_index=True)
    spec = definition.metrics[0]
    result = compute_metric(spec, frame, SEP, history, definition.statistics)
    rows = _binary(frame.loc[frame[PERIOD_COLUMN] == SEP.key])
    expected = precision_recall_fscore_support(rows["y_true"], rows["y_pred"],
                                               average="binary")[0]
    assert result.value == pytest.approx(expected)
    assert result.change is not None and result.change.previous is not None
    ctx = InsightContext.build(plan_of(definition), {"moderation": result},
                               {"moderation": frame}, SEP, history)
    found = {f.kind: f for f in moderation_findings(ctx)}
    assert set(found) == {"moderation_quality", "moderation_overturns",
                          "moderation_error_areas"}
    quality = found["moderation_quality"].sentence
    assert "Hate / en on recall" in quality and "clustered by moderator" in quality
    below = {(b["cell"], b["measure"]) for b in found["moderation_quality"].numbers["below"]}
    assert ("Hate / en", "recall") in below and {cell for cell, _ in below} == {"Hate / en"}
    overturns = found["moderation_overturns"]
    assert overturns.direction == "declined" and "up from" in overturns.sentence
    # the areas that make up 80% of false positives + false negatives, counted here
    wrong = rows.assign(error=rows["y_true"] != rows["y_pred"]).groupby("policy_area")["error"] \
        .sum().sort_values(ascending=False)
    share = wrong.cumsum() / wrong.sum()
    top = list(wrong.index[: int((share < 0.8).sum()) + 1])
    areas = found["moderation_error_areas"]
    assert [a["area"] for a in areas.numbers["areas"]] == top
    assert areas.numbers["total"] == wrong.sum()
    assert set(top) == {"Spam", "Hate"}  # planted: the areas moderators slip on most
    assert areas.sentence.startswith(top[0])
