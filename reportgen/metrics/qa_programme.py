"""Running the QA programme itself: reviewer consistency, review coverage, disputes and
automatic scoring.

* ``reviewer_consistency`` — over calibration ratings (one rater's rating of one question
  of one item in a session, as ``calibration.PanelParams``): each reviewer's mean signed
  deviation from the reference per question, where the reference is the calibrator's rating
  or the consensus (the mean of the *other* raters on the same question and item).  The
  value is the share of reviewers whose bias is beyond chance (Holm across reviewers) and at
  least ``material_bias``; the per-reviewer and per-question figures are in ``details``.
* ``qa_coverage`` — reviews per agent against a goal, and agents whose QA-score interval is
  too wide to act on.  Only agents with at least one review in the period are seen.
* ``dispute_accept_rate`` and ``dispute_resolution_days`` — agents' disputes of QA ratings:
  the share accepted among resolved disputes (counts, aggregated where the data lives;
  break it down by category or reviewer in the definition for Wilson intervals per
  segment) and the median days to resolve.
* ``auto_human_kappa`` — Cohen's kappa of automatic against human ratings of the same
  review and question, pooled and per question.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from reportgen._lazy import lazy
from reportgen.metrics.base import (
    CALCULATORS,
    Calculator,
    CalculatorParams,
    Exclusion,
    HistoryFrames,
    negative,
    not_a_flag,
)
from reportgen.metrics.calibration import PanelParams, is_reference, unit_ids
from reportgen.metrics.columns import numeric
from reportgen.metrics.estimates import Proportion, Statistic, proportion_from
from reportgen.metrics.quantile_and_net_score import Quantile
from reportgen.metrics.scorecard import ScorecardCalculator, ScorecardParams

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from reportgen.stats import agreement, intervals, significance
else:
    np = lazy("numpy")
    pd = lazy("pandas")
    agreement = lazy("reportgen.stats.agreement")
    intervals = lazy("reportgen.stats.intervals")
    significance = lazy("reportgen.stats.significance")

if TYPE_CHECKING:
    from reportgen.data.aggregates import Aggregation, Cols
    from reportgen.data.quantiles import QuantileMeasure

# --- reviewer consistency ------------------------------------------------------------------


class ConsistencyParams(PanelParams):
    column_fields: ClassVar[tuple[str, ...]] = (
        *PanelParams.column_fields, "rating_column", "question_column")
    item_columns: list[str] = Field(default_factory=lambda: ["ticket_id", "category"], description="Columns identifying the rated question of an item within a session.")
    rating_column: str = Field("rating", description="Column holding the rating; blank = not rated.")
    question_column: str = Field("category", description="Column naming the scorecard question.")
    reference: Literal["calibrator", "consensus"] = Field("calibrator", description="Compare each reviewer with the reference role's rating, or with the mean of the other raters (consensus).")
    material_bias: float = Field(0.2, ge=0, description="A bias smaller than this (rating points) is not flagged, however certain.")
    alpha: float = Field(0.05, gt=0, lt=1, description="Family-wise error rate across reviewers (Holm).")
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence level of each reviewer's interval.")


def rating_deviations(frame: pd.DataFrame, params: ConsistencyParams) -> pd.DataFrame:
    """reviewer, question and deviation (rating - reference) of every comparable rating."""
    rating = numeric(frame, params.rating_column)
    table = pd.DataFrame({
        "unit": unit_ids(frame, params), "reviewer": frame[params.rater_column].astype(str),
        "question": frame[params.question_column].astype(str), "rating": rating,
        "reference": is_reference(frame, params)}).loc[rating.notna()]
    if params.reference == "calibrator":
        expert = table.loc[table["reference"]].groupby("unit")["rating"].mean()
        out = table.loc[~table["reference"]].assign(ref=lambda t: t["unit"].map(expert))
    else:  # leave-one-out mean, so a reviewer is not compared with themself
        grouped = table.groupby("unit")["rating"]
        total, count = grouped.transform("sum"), grouped.transform("count")
        out = table.assign(ref=(total - table["rating"]) / (count - 1).replace(0, np.nan))
    out = out.assign(deviation=out["rating"] - out["ref"]).dropna(subset=["deviation"])
    return out[["reviewer", "question", "deviation"]].reset_index(drop=True)


def _bias(values: np.ndarray, level: float) -> dict[str, Any]:
    n = len(values)
    if n == 0:
        return {"n": 0, "bias": None, "low": None, "high": None}
    mean = float(values.mean())
    low, high = intervals.t_interval(values, level) if n > 1 and values.var() > 0 else (mean, mean)
    return {"n": n, "bias": mean, "low": float(low), "high": float(high)}


def reviewer_table(table: pd.DataFrame, params: ConsistencyParams,
                   previous: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """One row per reviewer: bias with interval, Holm-adjusted test against zero, flag,
    the per-question biases and the change against ``previous`` (Welch, Holm)."""
    rows: list[dict[str, Any]] = []
    for reviewer, part in table.groupby("reviewer", sort=True):
        values = part["deviation"].to_numpy(dtype=float)
        row = {"reviewer": str(reviewer), **_bias(values, params.confidence)}
        row["p_value"] = _one_sample_p(values)
        row["questions"] = [
            {"question": str(q), **_bias(p["deviation"].to_numpy(dtype=float), params.confidence)}
            for q, p in part.groupby("question", sort=True)]
        if previous is not None:
            before = previous.loc[previous["reviewer"] == reviewer, "deviation"].to_numpy(float)
            row["previous_n"] = len(before)
            row["previous_bias"] = float(before.mean()) if len(before) else None
            row["change_p"] = (significance.welch_ttest(values, before)[1]
                               if len(values) > 1 and len(before) > 1 else None)
        rows.append(row)
    _holm(rows, "p_value", "p_adjusted", params.alpha)
    _holm(rows, "change_p", "change_p_adjusted", params.alpha)
    for row in rows:
        row["flagged"] = bool(row.get("p_adjusted") is not None
                              and row["p_adjusted"] < params.alpha
                              and abs(row["bias"]) >= params.material_bias)
    return rows


def _one_sample_p(values: np.ndarray) -> float | None:
    from scipy import stats as sps

    if len(values) < 2 or np.var(values) == 0:
        return None
    return float(sps.ttest_1samp(values, 0.0).pvalue)


def _holm(rows: list[dict[str, Any]], key: str, out: str, alpha: float) -> None:
    """Adjust ``rows[i][key]`` (None = untested) with Holm, into ``rows[i][out]``."""
    tested = [r for r in rows if r.get(key) is not None and np.isfinite(r[key])]
    for row in rows:
        row[out] = None
    if tested:
        adjusted = significance.holm([r[key] for r in tested])
        for row, value in zip(tested, adjusted, strict=True):
            row[out] = None if value is None else float(value)



@CALCULATORS.register("reviewer_consistency")
class ReviewerConsistency(Calculator):
    """Share of reviewers whose ratings lean away from the reference, per question."""

    name = "reviewer_consistency"
    Params = ConsistencyParams
    unit = "percent"
    direction = "lower"
    estimate_kind = "proportion"
    formula = ("share of reviewers whose mean of (rating - {reference} rating) over the same "
               "question and item differs from 0 (one-sample t-test, Holm across reviewers at "
               "{alpha}) by at least {material_bias} points")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, ConsistencyParams)
        rows = reviewer_table(rating_deviations(frame, params), params)
        return Proportion(sum(r["flagged"] for r in rows), len(rows))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, ConsistencyParams)
        before = history.previous() if history is not None else None
        previous = None if before is None else rating_deviations(before, params)
        rows = reviewer_table(rating_deviations(frame, params), params, previous)
        return {"reviewers": rows, "reference": params.reference,
                "material_bias": params.material_bias, "alpha": params.alpha}


# --- coverage ------------------------------------------------------------------------------


class CoverageParams(ScorecardParams):
    column_fields: ClassVar[tuple[str, ...]] = (*ScorecardParams.column_fields, "agent_column")
    agent_column: str = Field("agent_id", description="Column identifying the reviewed agent.")
    goal: int = Field(4, ge=1, description="Reviews each agent should get in a period.")
    max_half_width: float = Field(10.0, gt=0, description="An agent's QA score is too uncertain to act on when its interval's half-width exceeds this (score points).")
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence level of each agent's interval.")


def review_scores(frame: pd.DataFrame, params: ScorecardParams) -> pd.DataFrame:
    """review, weighted score (0-100; 0 when a critical category failed) per review.

    The same rule as ``qa_score``'s SQL; per-agent spreads need each review's own score,
    which that aggregation does not return.
    """
    rating = numeric(frame, params.rating_column)
    low, high = numeric(frame, params.scale_min_column), numeric(frame, params.scale_max_column)
    score = ((rating - low) / (high - low).replace(0, np.nan) * 100.0) \
        .where((rating >= low) & (rating <= high))  # off its scale: left out, as in the SQL
    weight = numeric(frame, params.weight_column).where(score.notna())
    critical = (numeric(frame, params.critical_column).fillna(0) == 1
                if params.critical_column else pd.Series(False, index=frame.index))
    parts = pd.DataFrame({"review": frame[params.review_column], "weighted": score * weight,
                          "weight": weight, "rated": score.notna(),
                          "failed": critical & (score <= params.critical_fail_at_or_below)})
    per = parts.groupby("review", sort=False).agg(weighted=("weighted", "sum"),
                                                  weight=("weight", "sum"),
                                                  rated=("rated", "sum"), failed=("failed", "max"))
    per = per.loc[per["rated"] > 0]
    value = np.where(per["failed"], 0.0, per["weighted"] / per["weight"])
    return pd.DataFrame({"review": per.index, "score": value}).reset_index(drop=True)


def agent_coverage(frame: pd.DataFrame, params: CoverageParams) -> list[dict[str, Any]]:
    """Per agent: reviews, mean score and its interval's half-width, and both flags."""
    scores = review_scores(frame, params)
    agent_of = frame.drop_duplicates(params.review_column).set_index(params.review_column)[
        params.agent_column]
    scores = scores.assign(agent=scores["review"].map(agent_of).astype(str))
    rows = []
    for agent, part in scores.groupby("agent", sort=True):
        values = part["score"].to_numpy(dtype=float)
        half = None
        if len(values) > 1:
            low, high = intervals.t_interval(values, params.confidence)
            half = float(high - low) / 2 if np.isfinite(high - low) else None
        rows.append({"agent": str(agent), "reviews": len(values), "mean": float(values.mean()),
                     "half_width": half, "below_goal": len(values) < params.goal,
                     # one review gives no interval at all: as unusable as a wide one
                     "too_wide": half is None or half > params.max_half_width})
    return rows


@CALCULATORS.register("qa_coverage")
class QaCoverage(ScorecardCalculator):
    """Share of reviewed agents with fewer reviews than the goal."""

    name = "qa_coverage"
    Params = CoverageParams
    unit = "percent"
    direction = "lower"
    estimate_kind = "proportion"
    formula = ("share of agents reviewed in the period with fewer than {goal} reviews; an "
               "agent's score is too uncertain when its {confidence} t-interval's half-width "
               "exceeds {max_half_width} points")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, CoverageParams)
        rows = agent_coverage(frame, params)
        return Proportion(sum(r["below_goal"] for r in rows), len(rows))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, CoverageParams)
        rows = agent_coverage(frame, params)
        reviews = [r["reviews"] for r in rows]
        return {"agents": rows, "goal": params.goal, "max_half_width": params.max_half_width,
                "below_goal": sum(r["below_goal"] for r in rows),
                "too_wide": sum(r["too_wide"] for r in rows),
                "median_reviews": float(np.median(reviews)) if reviews else None}


# --- disputes ------------------------------------------------------------------------------


class DisputeParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("accepted_column",)
    accepted_column: str = Field("accepted", description="Flag: the dispute was accepted (1) or upheld (0); blank while open.")


@CALCULATORS.register("dispute_accept_rate")
class DisputeAcceptRate(Calculator):
    """Share of resolved disputes that were accepted (the reviewer's rating was wrong)."""

    name = "dispute_accept_rate"
    Params = DisputeParams
    unit = "percent"
    direction = "lower"
    additive = True
    estimate_kind = "proportion"
    formula = "disputes with {accepted_column} = 1 / disputes with {accepted_column} set (resolved)"

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        from reportgen.data.aggregates import Aggregation, count_if

        assert isinstance(params, DisputeParams)

        def resolved(cols: Cols) -> Any:
            return cols.flag(params.accepted_column).is_not(None)

        return Aggregation({
            "trials": lambda cols: count_if(resolved(cols)),
            "successes": lambda cols: count_if(cols.flag(params.accepted_column) == 1),
        })

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Proportion:
        return proportion_from(values)

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, DisputeParams)
        return (not_a_flag(params.accepted_column),)


class ResolveParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("column",)
    column: str = Field("days_to_resolve", description="Column holding days from raising a dispute to its decision.")
    quantile: float = Field(0.5, gt=0, lt=1, description="Which quantile: 0.5 = median.")


@CALCULATORS.register("dispute_resolution_days")
class DisputeResolutionDays(Calculator):
    """Days to resolve a dispute: the median by default."""

    name = "dispute_resolution_days"
    Params = ResolveParams
    unit = "number"
    direction = "lower"
    estimate_kind = "quantile"
    formula = "quantile {quantile} of {column} (days) over resolved disputes"

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Quantile:
        assert isinstance(params, ResolveParams)
        values = numeric(frame, params.column).dropna()
        return Quantile(values.loc[values >= 0].to_numpy(dtype=float), q=params.quantile)

    def quantile(self, params: CalculatorParams) -> QuantileMeasure:
        from reportgen.data.quantiles import QuantileMeasure, non_negative

        assert isinstance(params, ResolveParams)
        return QuantileMeasure(non_negative(params.column), params.quantile)

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, ResolveParams)
        return (negative(params.column),)


# --- automatic vs human scoring ------------------------------------------------------------


class AutoHumanParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("auto_column", "human_column", "question_column")
    auto_column: str = Field("auto_rating", description="Column holding the automatic rating.")
    human_column: str = Field("human_rating", description="Column holding the human reviewer's rating of the same question.")
    question_column: str = Field("category", description="Column naming the scorecard question.")
    weights: Literal["none", "linear", "quadratic"] = Field("none", description="Disagreement weights for ordinal scales.")
    min_kappa: float = Field(0.6, ge=-1, le=1, description="Agreement below this kappa is too weak to rely on the automatic score (0.6: 'substantial' on Landis & Koch's scale).")
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence level of each question's interval.")


def kappa_of(auto: pd.Series, human: pd.Series, weights: str) -> tuple[float, float]:
    """(kappa, standard error) of two aligned rating series; NaN when undefined."""
    levels = sorted(set(auto.tolist()) | set(human.tolist()))
    if len(levels) < 2:  # one category used throughout: chance agreement is 1
        return float("nan"), float("nan")
    table = pd.crosstab(pd.Categorical(auto, categories=levels),
                        pd.Categorical(human, categories=levels), dropna=False)
    return agreement.cohens_kappa(table.to_numpy(dtype=float), weights,  # type: ignore[arg-type]
                              levels)


def _pairs(frame: pd.DataFrame, params: AutoHumanParams) -> pd.DataFrame:
    out = pd.DataFrame({"auto": numeric(frame, params.auto_column),
                        "human": numeric(frame, params.human_column),
                        "question": frame[params.question_column].astype(str)})
    return out.dropna(subset=["auto", "human"])


@CALCULATORS.register("auto_human_kappa")
class AutoHumanKappa(Calculator):
    """Cohen's kappa of automatic against human ratings of the same questions."""

    name = "auto_human_kappa"
    Params = AutoHumanParams
    unit = "ratio"
    direction = "higher"
    estimate_kind = "statistic"
    formula = ("kappa = (p_o - p_e) / (1 - p_e) of {auto_column} against {human_column} over "
               "rated questions ({weights} weights); per {question_column} in the details")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Statistic:
        assert isinstance(params, AutoHumanParams)
        pairs = _pairs(frame, params)
        if pairs.empty:
            return Statistic(None, 0)
        kappa, se = kappa_of(pairs["auto"], pairs["human"], params.weights)
        return Statistic(kappa, len(pairs), "normal (asymptotic SE)",
                         lambda level: agreement.kappa_interval(kappa, se, level))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, AutoHumanParams)
        rows = []
        for question, part in _pairs(frame, params).groupby("question", sort=True):
            kappa, se = kappa_of(part["auto"], part["human"], params.weights)
            bounds = (agreement.kappa_interval(kappa, se, params.confidence)
                      if np.isfinite(kappa) else None)
            rows.append({"question": str(question), "n": len(part),
                         "kappa": float(kappa) if np.isfinite(kappa) else None,
                         "low": bounds[0] if bounds else None,
                         "high": bounds[1] if bounds else None,
                         "agreement": float((part["auto"] == part["human"]).mean())})
        return {"questions": rows, "min_kappa": params.min_kappa, "weights": params.weights}
