"""autoqa_governance: automatic against human scoring per rubric item, checked against
scikit-learn, statsmodels, scipy and irrCAC's published examples; a seeded simulation of
drift; the IQS with automatic scores kept apart against pandas; bad input; the findings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater
from support.metric_frames import compute_metric
from support.plans import plan_of

from reportgen.cli import main
from reportgen.definition.document import Definition
from reportgen.errors import DefinitionError
from reportgen.insights.autoqa import autoqa_findings
from reportgen.insights.context import InsightContext
from reportgen.insights.text import plain_sentence
from reportgen.metrics import calculator
from reportgen.metrics.base import HistoryFrames
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.period import Period
from reportgen.plan import load_definition

TZ = "UTC"
SEP = Period(date(2026, 9, 1), "month", TZ)
AUG = SEP.previous()
ITEMS = ("Correct information", "Empathy", "Greeting & tone", "Process followed",
         "Resolution", "Understanding the issue", "Writing quality", "Closing")
#: how often reviewers give 1, 2, 3 and 4: most ratings are good ones, as in QA
HUMAN_SHARES = (0.1, 0.2, 0.35, 0.35)
STEADY = dict.fromkeys(ITEMS, 0.85)

#: irrCAC's ``cont3x3abstractors`` (rater 1 in rows, rater 2 in columns; 100 pregnancies) and
#: what irrCAC's vignettes print for it (overview.html and weighting.html, K. L. Gwet 2019):
#: coefficient, SE and conf.int of kappa2.table and gwet.ac1.table, unweighted and with
#: quadratic.weights(1:3).
ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
PUBLISHED = {
    ("none", "kappa"): (0.7964094, 0.05891072, (0.68, 0.913)),
    ("none", "ac"): (0.8493305, 0.04321747, (0.764, 0.935)),
    ("quadratic", "kappa"): (0.8921569, 0.03535151, (0.822, 0.962)),
    ("quadratic", "ac"): (0.9402369, 0.01792019, (0.905, 0.976)),
}


def _params(**values):
    return calculator("autoqa_governance").Params.model_validate(values)


def _details(frame: pd.DataFrame, history: HistoryFrames | None = None, **params):
    return calculator("autoqa_governance").details(frame, _params(**params), history)


def _items(details) -> dict[str, dict]:
    return {row["item"]: row for row in details["items"]}


def ratings(seed: int, period: Period, agree: dict[str, float], reviews: int = 100, *,
            automatic_only: int = 0, confirmed: float = 0.0) -> pd.DataFrame:
    """Reviews of ``period`` rated on every item by the automatic scorer, which copies the
    reviewer's rating with probability ``agree[item]`` and otherwise guesses 1-4 at random.
    The first ``reviews`` are double-scored; ``automatic_only`` more have automatic ratings
    only, a share ``confirmed`` of them confirmed by a reviewer."""
    rng = np.random.default_rng(seed)
    total = reviews + automatic_only
    parts = []
    for item, share in agree.items():
        human = rng.choice([1, 2, 3, 4], total, p=HUMAN_SHARES).astype(float)
        auto = np.where(rng.random(total) < share, human, rng.integers(1, 5, total))
        double = np.arange(total) < reviews
        confirmer = np.where(~double & (rng.random(total) < confirmed), "QA-Lena", None)
        parts.append(pd.DataFrame({
            "review_id": [f"{period.key}-R{i}" for i in range(total)], "category": item,
            "auto_rating": auto.astype(float), "human_rating": np.where(double, human, np.nan),
            "confirmed_by": confirmer, "weight": 2.0 if item == "Correct information" else 1.0}))
    frame = pd.concat(parts, ignore_index=True)
    start = pd.Timestamp(period.start_at)
    frame["reviewed_at"] = start + pd.to_timedelta(rng.random(len(frame)) * 86400 * 28, "s")
    frame[PERIOD_COLUMN] = period.key
    return frame


def pairs_of(table: list[list[int]], item: str = "Abstraction") -> pd.DataFrame:
    """Double-scored rows from a contingency table (automatic in rows, reviewer in columns)."""
    rows = []
    for i, line in enumerate(table):
        for j, count in enumerate(line):
            rows += [{"category": item, "auto_rating": i + 1, "human_rating": j + 1}] * count
    return pd.DataFrame(rows).assign(review_id=[f"R{k}" for k in range(sum(map(sum, table)))])


# --- agreement, bias: against the libraries and published values ------------------------------


@pytest.mark.parametrize("weights", ["none", "linear", "quadratic"])
def test_kappa_is_scikit_learns_and_its_se_statsmodels(weights):
    frame = ratings(1, SEP, {"Empathy": 0.7, "Greeting & tone": 0.3, "Closing": 0.95})
    rows = _items(_details(frame, weights=weights, coefficient="kappa"))
    for item, part in frame.groupby("category"):
        auto, human = part["auto_rating"].astype(int), part["human_rating"].astype(int)
        expected = cohen_kappa_score(auto, human, labels=[1, 2, 3, 4],
                                     weights=None if weights == "none" else weights)
        row = rows[item]
        assert row["kappa"] == pytest.approx(expected, abs=1e-12)
        assert row["agreement"] == row["kappa"]
        table = pd.crosstab(auto, human).reindex(index=[1, 2, 3, 4], columns=[1, 2, 3, 4],
                                                 fill_value=0).to_numpy(float)
        fit = inter_rater.cohens_kappa(table, wt=None if weights == "none" else weights)
        assert row["kappa_se"] == pytest.approx(fit.std_kappa, rel=1e-12)
        half = sps.t.ppf(0.975, len(part) - 1) * fit.std_kappa
        assert (row["kappa_low"], row["kappa_high"]) == pytest.approx(
            (expected - half, min(1.0, expected + half)), abs=1e-12)


@pytest.mark.parametrize(("weights", "key"), list(PUBLISHED))
def test_intervals_equal_irrcacs_published_examples(weights, key):
    value, se, (low, high) = PUBLISHED[(weights, key)]
    (row,) = _details(pairs_of(ABSTRACTORS), scale_min=1, scale_max=3, weights=weights)["items"]
    assert row[key] == pytest.approx(value, abs=5e-8)
    assert row[f"{key}_se"] == pytest.approx(se, abs=5e-9)
    assert (round(row[f"{key}_low"], 3), round(row[f"{key}_high"], 3)) == (low, high)


def test_ac1_is_one_on_perfect_agreement_even_in_one_category():
    everyone_good = pairs_of([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 60]])
    (row,) = _details(everyone_good)["items"]
    assert row["ac"] == 1.0 and (row["ac_low"], row["ac_high"]) == (1.0, 1.0)
    assert row["status"] == "stands_in"
    # kappa's chance agreement is 1 when one category is used throughout: it has no value,
    # so with kappa as the coefficient the item is not judged rather than failed
    (row,) = _details(everyone_good, coefficient="kappa")["items"]
    assert row["kappa"] is None and row["status"] == "not_judged"
    spread = pairs_of([[10, 0, 0, 0], [0, 15, 0, 0], [0, 0, 20, 0], [0, 0, 0, 25]])
    (row,) = _details(spread, coefficient="kappa", weights="quadratic")["items"]
    assert row["kappa"] == 1.0 and row["ac"] == 1.0 and row["kappa_low"] == 1.0


def test_bias_is_scipys_paired_t():
    frame = ratings(2, SEP, {"Empathy": 1.0})
    generous = np.arange(len(frame)) % 2 == 0  # half the time one point above the reviewer
    frame["auto_rating"] = np.where(generous, np.minimum(frame["human_rating"] + 1, 4),
                                    frame["human_rating"])
    (row,) = _details(frame)["items"]
    result = sps.ttest_rel(frame["auto_rating"], frame["human_rating"])
    interval = result.confidence_interval(0.95)
    assert row["bias"] == pytest.approx((frame["auto_rating"] - frame["human_rating"]).mean())
    assert (row["bias_low"], row["bias_high"]) == pytest.approx((interval.low, interval.high))
    assert row["bias"] > 0.25 and "bias" in row["reasons"]


# --- standing in ------------------------------------------------------------------------------


def test_an_item_at_chance_level_cannot_stand_in_and_the_value_counts_the_others():
    agree = {**STEADY, "Greeting & tone": 0.0}  # the scorer only guesses
    frame = ratings(3, SEP, agree, reviews=150)
    calc = calculator("autoqa_governance")
    rows = _items(_details(frame))
    tone = rows.pop("Greeting & tone")
    assert tone["status"] == "cannot_stand_in" and "agreement" in tone["reasons"]
    assert tone["agreement_low"] < 0.6 and abs(tone["agreement"]) < 0.2
    assert {row["status"] for row in rows.values()} == {"stands_in"}
    estimate = calc.estimate(frame, _params())
    assert (estimate.value, estimate.n) == (len(ITEMS) - 1, len(ITEMS))


def test_an_item_with_too_few_pairs_is_not_judged():
    frame = ratings(4, SEP, {"Empathy": 0.9}, reviews=12)
    (row,) = _details(frame)["items"]
    assert row["pairs"] == 12 and row["status"] == "not_judged"
    assert row["reasons"] == ["few_pairs"]
    assert calculator("autoqa_governance").estimate(frame, _params()).value == 0


# --- drift: a seeded simulation ---------------------------------------------------------------


def test_planted_drift_is_found_and_stable_items_are_flagged_at_most_at_alpha():
    # 60 reports of 8 items, 100 double-scored ratings per item a month.  'Empathy' falls from
    # copying the reviewer 85% of the time to 50% in September (AC1 about 0.85 to 0.45); the
    # other seven are the same both months.  Holm across the items holds the chance of naming
    # any steady one at about alpha (measured 1,000 times: see docs/metrics.md).
    reports, alpha = 60, 0.05
    found = steady_flags = any_steady = 0
    for seed in range(reports):
        before = ratings(1000 + seed, AUG, STEADY)
        now = ratings(2000 + seed, SEP, {**STEADY, "Empathy": 0.5})
        history = HistoryFrames([AUG, SEP], {AUG.key: before, SEP.key: now}, SEP)
        details = _details(now, history, alpha=alpha)
        assert details["drift_tested"] == len(ITEMS)
        rows = _items(details)
        found += rows["Empathy"]["drifted"]
        flags = sum(row["drifted"] for item, row in rows.items() if item != "Empathy")
        steady_flags += flags
        any_steady += flags > 0
    assert found >= 0.9 * reports
    tested = reports * (len(ITEMS) - 1)
    # at most alpha of steady items, with room for chance: the binomial's 99.9% quantile
    assert steady_flags <= sps.binom.ppf(0.999, tested, alpha)
    assert any_steady <= sps.binom.ppf(0.999, reports, alpha)


def test_drift_is_the_z_test_of_the_two_coefficients_with_holm():
    before = ratings(5, AUG, STEADY)
    now = ratings(6, SEP, {**STEADY, "Empathy": 0.4})
    history = HistoryFrames([AUG, SEP], {AUG.key: before, SEP.key: now}, SEP)
    rows = _items(_details(now, history))
    earlier = _items(_details(before))
    raw = []
    for item in ITEMS:
        a, b = rows[item], earlier[item]
        z = (a["ac"] - b["ac"]) / np.hypot(a["ac_se"], b["ac_se"])
        assert a["drift_p"] == pytest.approx(2 * sps.norm.sf(abs(z)))
        assert a["previous_agreement"] == b["ac"]
        raw.append(a["drift_p"])
    ranked = np.sort(raw)
    holm = np.maximum.accumulate(np.minimum(1, ranked * np.arange(len(raw), 0, -1)))
    assert sorted(r["drift_p_adjusted"] for r in rows.values()) == pytest.approx(list(holm))
    assert [item for item, row in rows.items() if row["drifted"]] == ["Empathy"]


# --- the IQS, automatic scores kept apart ----------------------------------------------------


def test_the_kept_apart_iqs_matches_a_direct_pandas_computation():
    frame = ratings(7, SEP, STEADY, reviews=80, automatic_only=200, confirmed=0.3)
    frame.loc[frame.index[::97], "confirmed_by"] = "no"  # a flag saying "not confirmed"
    iqs = _details(frame, confirmed_column="confirmed_by", weight_column="weight")["iqs"]

    def expected(rating: pd.Series) -> float:
        score = (rating - 1) / 3 * 100
        kept = frame.assign(s=score).dropna(subset=["s"])
        sums = (kept["s"] * kept["weight"]).groupby(kept["review_id"]).sum()
        return float((sums / kept.groupby("review_id")["weight"].sum()).mean())

    confirmed = frame["confirmed_by"].notna() & (frame["confirmed_by"] != "no")
    automatic_only = frame["human_rating"].isna()
    human = frame["human_rating"]
    assert iqs["human"]["iqs"] == pytest.approx(expected(human))
    assert iqs["human"]["reviews"] == 80
    with_confirmed = human.fillna(frame["auto_rating"].where(confirmed))
    assert iqs["confirmed"]["iqs"] == pytest.approx(expected(with_confirmed))
    assert iqs["all_automatic_counted"]["iqs"] == pytest.approx(
        expected(human.fillna(frame["auto_rating"])))
    assert iqs["confirmed_scores"] == int((automatic_only & confirmed).sum())
    assert iqs["kept_apart"] == int((automatic_only & ~confirmed).sum()) > 0
    fully_kept = frame.loc[automatic_only].groupby("review_id")["confirmed_by"].apply(
        lambda c: not (c.notna() & (c != "no")).any())
    assert iqs["kept_apart_reviews"] == int(fully_kept.sum())
    # without a confirmation column nothing automatic counts
    plain = _details(frame)["iqs"]
    assert plain["confirmed"] == plain["human"] and plain["confirmed_scores"] == 0


# --- bad input ------------------------------------------------------------------------------


def test_empty_data_and_one_rater_only_read_plainly():
    definition = _definition()
    spec = definition.metrics[0]
    empty = ratings(8, SEP, STEADY).iloc[0:0]
    result = compute_metric(spec, empty, SEP, [AUG, SEP], definition.statistics)
    assert result.value is None and result.suppressed == "no data for September 2026"
    assert autoqa_findings(_context(definition, result, empty)) == []
    automatic = ratings(9, SEP, STEADY).assign(human_rating=np.nan)
    result = compute_metric(spec, automatic, SEP, [AUG, SEP], definition.statistics)
    assert (result.value, result.n) == (0, len(ITEMS))
    (finding,) = autoqa_findings(_context(definition, result, automatic))
    assert finding.sentence.startswith(
        f"No auditor double-scored any of the automatic scorer's {8 * 100} ratings in "
        "September 2026: not enough data")
    reviewers_only = ratings(10, SEP, STEADY).assign(auto_rating=np.nan)
    result = compute_metric(spec, reviewers_only, SEP, [AUG, SEP], definition.statistics)
    assert result.suppressed == "no data for September 2026"


def test_a_missing_column_and_a_bad_scale_are_located_errors(write_definition):
    text = """
    id: autoqa
    title: AutoQA
    sources:
      auto_scores:
        kind: csv
        path: scores.csv
        time_column: reviewed_at
        columns: {review_id: str, category: str, auto_rating: int, human_rating: int}
    metrics:
      - id: autoqa
        calculator: autoqa_governance
        source: auto_scores
        params: {confirmed_column: confirmed_by, scale_min: 4, scale_max: 1}
    sections:
      - {id: qa, title: QA, kpis: [autoqa]}
    """
    with pytest.raises(DefinitionError) as info:
        load_definition(write_definition(text))
    problems = "\n".join(map(str, info.value.problems))
    assert "report.yaml:" in problems and "metrics[0].params" in problems
    assert "scale_max (1) must be above scale_min (4)" in problems
    undeclared = text.replace(", scale_min: 4, scale_max: 1", "")
    with pytest.raises(DefinitionError) as info:
        load_definition(write_definition(undeclared))
    assert ("metric 'autoqa' reads column 'confirmed_by', which source 'auto_scores' does "
            "not declare") in "\n".join(map(str, info.value.problems))


def test_a_column_the_data_lacks_stops_the_run_with_its_location(tmp_path, capsys):
    ratings(11, SEP, STEADY).drop(columns=["confirmed_by", PERIOD_COLUMN]).to_csv(
        tmp_path / "scores.csv", index=False)
    path = tmp_path / "autoqa.yaml"
    path.write_text(
        "id: autoqa\ntitle: AutoQA\n"
        "sources:\n  auto_scores: {kind: csv, path: scores.csv, time_column: reviewed_at}\n"
        "metrics:\n  - {id: autoqa, calculator: autoqa_governance, source: auto_scores,\n"
        "     params: {confirmed_column: confirmed_by}}\n"
        "sections:\n  - {id: qa, title: QA, kpis: [autoqa]}\n", encoding="utf-8")
    status = main(["run", str(path), "--period", "2026-09", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert f"{path}:4:" in err and "missing column 'confirmed_by'" in err


# --- the findings -----------------------------------------------------------------------------


def _definition() -> Definition:
    metric = {"id": "autoqa", "calculator": "autoqa_governance", "source": "auto_scores",
              "label": "Items the automatic score stands in on",
              "params": {"confirmed_column": "confirmed_by", "weight_column": "weight"}}
    return Definition.model_validate({
        "id": "autoqa-test", "title": "AutoQA test",
        "period": {"grain": "month", "timezone": TZ},
        "sources": {"auto_scores": {"kind": "csv", "path": "unused.csv",
                                    "time_column": "reviewed_at"}},
        "metrics": [metric],
        "sections": [{"id": "qa", "title": "QA programme", "kpis": ["autoqa"]}]})


def _context(definition: Definition, result, frame: pd.DataFrame) -> InsightContext:
    return InsightContext.build(plan_of(definition), {"autoqa": result},
                                {"auto_scores": frame}, SEP, [AUG, SEP])


def test_findings_say_where_it_stands_in_what_drifted_and_what_was_kept_apart():
    definition = _definition()
    agree_before = {**STEADY, "Greeting & tone": 0.1}
    agree_now = {**agree_before, "Empathy": 0.45}
    frame = pd.concat([ratings(12, AUG, agree_before, reviews=150),
                       ratings(13, SEP, agree_now, reviews=150, automatic_only=400,
                               confirmed=0.25)], ignore_index=True)
    frame.loc[(frame["category"] == "Closing") & frame["human_rating"].notna()
              & (frame[PERIOD_COLUMN] == SEP.key) & (frame.index % 10 != 0), "human_rating"] = None
    result = compute_metric(definition.metrics[0], frame, SEP, [AUG, SEP], definition.statistics)
    found = {f.kind: f for f in autoqa_findings(_context(definition, result, frame))}
    assert set(found) == {"autoqa_stand_in", "autoqa_drift", "autoqa_iqs"}
    items = _items(result.details)

    stand_in = found["autoqa_stand_in"]
    tone = items["Greeting & tone"]
    assert stand_in.sentence.startswith(
        f"The automatic scorer can stand in for auditors on {int(result.value)} of "
        f"7 rubric items in September 2026; not on ")
    assert f"Greeting & tone (agreement {tone['agreement']:.2f}, needs 0.6" in stand_in.sentence
    assert "Too few double-scored ratings to judge Closing (15): 30 are needed." \
        in stand_in.sentence
    assert stand_in.numbers["not_judged"] == ["Closing"] and stand_in.tone == "bad"

    drift = found["autoqa_drift"]
    empathy = items["Empathy"]
    assert drift.sentence.startswith(
        f"The automatic scorer's agreement with auditors on Empathy fell from "
        f"{empathy['previous_agreement']:.2f} to {empathy['agreement']:.2f} since August 2026")
    assert drift.direction == "declined" and drift.numbers["adjustment"] == "Holm"
    body, note = plain_sentence(drift.sentence, True)
    assert "p =" not in body and "p <" not in body and note.startswith("p ")
    assert body.endswith("a real change, not noise.")

    iqs = found["autoqa_iqs"]
    numbers = result.details["iqs"]
    assert iqs.sentence.startswith(
        f"IQS from auditors' own ratings was {numbers['human']['iqs']:.1f} in September "
        f"2026 ({numbers['human']['reviews']} reviews); with the "
        f"{numbers['confirmed_scores']} automatic ratings an auditor confirmed, "
        f"{numbers['confirmed']['iqs']:.1f}")
    assert f"{numbers['kept_apart']:,} automatic ratings no auditor confirmed were kept " \
        "apart" in iqs.sentence
    for finding in found.values():
        assert "p =" not in plain_sentence(finding.sentence, None)[0]


def test_the_demo_tables_auto_scores_read_as_the_demo_story(tmp_path: Path):
    from reportgen.demo import generate_demo_data

    generate_demo_data(tmp_path, seed=3, end_month=SEP.start, months=2)
    scores = pd.read_csv(tmp_path / "qa_auto_scores.csv")
    september = scores.loc[scores["reviewed_at"].str.startswith("2026-09")]
    rows = _items(_details(september))
    assert rows["Greeting & tone"]["status"] == "cannot_stand_in"
    assert {row["status"] for item, row in rows.items() if item != "Greeting & tone"} \
        == {"stands_in"}


def test_ratings_off_the_scale_are_left_out_and_counted():
    definition = _definition()
    frame = ratings(14, SEP, {"Empathy": 0.9})
    frame.loc[frame.index[:3], "auto_rating"] = [7, 0, 2.5]
    frame.loc[frame.index[3], "human_rating"] = 5
    result = compute_metric(definition.metrics[0], frame, SEP, [AUG, SEP], definition.statistics)
    assert {(o.noun, o.qualifier, o.count) for o in result.left_out} == {
        ("automatic rating", "off the 1-4 scale", 3), ("reviewer rating", "off the 1-4 scale", 1)}
    (row,) = result.details["items"]
    assert (row["automatic"], row["pairs"]) == (97, 96)
