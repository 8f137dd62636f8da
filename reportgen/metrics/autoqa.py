"""Automatic against human scoring (AutoQA governance): can the automatic scorer stand in for
reviewers, rubric item by rubric item, and what the IQS reads with its scores kept apart.

``autoqa_governance`` reads one row per review x rubric item the automatic scorer rated: the
automatic rating, the reviewer's own rating of the same item where a reviewer double-scored
it (blank otherwise) and, optionally, the reviewer who confirmed the automatic rating.  Per
item, over the period's double-scored rows:

* agreement: Cohen's kappa (statsmodels) and Gwet's AC1 (``stats.agreement.gwet_ac``; AC2
  with weights), each with its two-rater contingency-table standard error and a t interval
  on n - 1 degrees of freedom, as irrCAC's ``kappa2.table`` and ``gwet.ac1.table`` give them;
* bias: the mean of (automatic - human) rating, with its paired t interval;
* stands in: at least ``min_pairs`` pairs, the lower bound of the chosen coefficient at
  least ``min_agreement`` and the bias's interval within +-``max_bias``.  The automatic score
  has to show it is good enough: an item whose interval is too wide to show it cannot stand
  in either.  Fewer pairs: not judged;
* drift: the chosen coefficient against the previous period's, a Wald z-test of the
  difference of two estimates from independent samples (different reviews), Holm-adjusted
  across the items tested.

IQS: the reviewers' own ratings make the human IQS; an automatic rating counts toward the
confirmed IQS only where no reviewer rated the item and a reviewer confirmed the automatic
rating.  The others are kept apart, and counted.  A review's score is the (weighted) mean of
its items' scores, (rating - scale_min) / (scale_max - scale_min) x 100; the IQS is the mean
of review scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from reportgen._lazy import lazy
from reportgen.metrics.base import (
    CALCULATORS,
    Calculator,
    CalculatorParams,
    Exclusion,
    HistoryFrames,
)
from reportgen.metrics.columns import flags, numeric
from reportgen.metrics.estimates import Count
from reportgen.text.number import plain

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from reportgen.data.aggregates import Cols
    from reportgen.stats import agreement, intervals, significance
else:
    np = lazy("numpy")
    pd = lazy("pandas")
    agreement = lazy("reportgen.stats.agreement")
    intervals = lazy("reportgen.stats.intervals")
    significance = lazy("reportgen.stats.significance")

Coefficient = Literal["ac1", "kappa"]
#: the most points a rating scale may have (a table per item is q x q)
MAX_SCALE_POINTS = 21


class AutoQaParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = (
        "item_column", "auto_column", "human_column", "review_column", "confirmed_column",
        "weight_column")
    item_column: str = Field("category", description="Column naming the rubric item rated.")
    auto_column: str = Field("auto_rating", description="Column holding the automatic rating.")
    human_column: str = Field("human_rating", description="Column holding the reviewer's own rating of the same item, given without seeing the automatic one; blank = not double-scored.")
    review_column: str = Field("review_id", description="Column identifying the review (a review's items make its IQS score).")
    confirmed_column: str | None = Field(None, description="Column naming the reviewer who confirmed the automatic rating; blank, 0, false or no = not confirmed. Without it no automatic rating counts toward the IQS.")
    weight_column: str | None = Field(None, description="Column holding the item's weight in a review's score (none: items weigh the same).")
    scale_min: int = Field(1, description="Lowest rating of the scale both score on; ratings off the scale are left out and counted.")
    scale_max: int = Field(4, description="Highest rating of the scale.")
    weights: Literal["none", "linear", "quadratic"] = Field("none", description="Disagreement weights of both coefficients: quadratic for an ordinal scale (quadratic-weighted kappa, Gwet's AC2).")
    coefficient: Coefficient = Field("ac1", description="The coefficient that decides whether the automatic score stands in and whose drift is tested: Gwet's AC1 (stable when most ratings fall in one category) or Cohen's kappa.")
    min_agreement: float = Field(0.6, ge=-1, le=1, description="The coefficient's lower bound must reach this for the automatic score to stand in (0.6: 'substantial' on Landis & Koch's scale).")
    max_bias: float = Field(0.25, gt=0, description="The bias's interval (automatic - human, rating points) must lie within +- this for the automatic score to stand in.")
    min_pairs: int = Field(30, ge=2, description="An item with fewer double-scored ratings in the period is not judged.")
    alpha: float = Field(0.05, gt=0, lt=1, description="Family-wise error rate of the drift tests across items (Holm).")
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence level of the agreement and bias intervals.")

    @model_validator(mode="after")
    def _scale(self) -> AutoQaParams:
        if self.scale_max <= self.scale_min:
            raise ValueError(f"scale_max ({self.scale_max}) must be above scale_min "
                             f"({self.scale_min})")
        if self.scale_max - self.scale_min + 1 > MAX_SCALE_POINTS:
            raise ValueError(f"a rating scale of at most {MAX_SCALE_POINTS} points is "
                             f"supported, got {self.scale_min} to {self.scale_max}")
        return self

    @property
    def levels(self) -> list[float]:
        """Every point of the scale, used or not (chance agreement is over all of them)."""
        return [float(v) for v in range(self.scale_min, self.scale_max + 1)]


def coefficient_name(coefficient: str, weights: str) -> str:
    """``Gwet's AC1``, ``Gwet's AC2 (quadratic weights)``, ``Cohen's kappa``..."""
    if coefficient == "kappa":
        return "Cohen's kappa" if weights == "none" else f"{weights}-weighted kappa"
    return "Gwet's AC1" if weights == "none" else f"Gwet's AC2 ({weights} weights)"


# --- the rows --------------------------------------------------------------------------------


def off_scale(column: str, params: AutoQaParams, noun: str) -> Exclusion:
    """Ratings of ``column`` that are not a point of the scale (a 7 on 1-4, a 2.5)."""

    def condition(cols: Cols) -> Any:
        import sqlalchemy as sa

        value = cols.num(column)
        return sa.and_(value.is_not(None), sa.or_(
            sa.not_(value.between(params.scale_min, params.scale_max)),
            value != sa.func.floor(value)))

    return Exclusion(f"off_scale:{column}", noun,
                     f"off the {params.scale_min}-{params.scale_max} scale", condition)


def _confirmed(frame: pd.DataFrame, params: AutoQaParams) -> np.ndarray:
    """Whether a reviewer confirmed each row's automatic rating: a name (or 1, yes, true) in
    the confirmation column; blank, 0, false and no are not a confirmation."""
    if params.confirmed_column is None:
        return np.zeros(len(frame), dtype=bool)
    written = frame[params.confirmed_column].astype("string").str.strip()
    named = (written.notna() & (written != "")).fillna(False).to_numpy(bool)
    said_no = flags(frame, params.confirmed_column).eq(False).fillna(False).to_numpy(bool)
    return named & ~said_no


def scored_rows(frame: pd.DataFrame, params: AutoQaParams) -> pd.DataFrame:
    """``item``, ``review``, ``auto`` and ``human`` (NaN when blank or off the scale),
    ``confirmed`` and ``weight`` of every row."""
    levels = params.levels

    def on_scale(column: str) -> pd.Series:
        values = numeric(frame, column)
        return values.where(values.isin(levels))

    weight = (numeric(frame, params.weight_column) if params.weight_column is not None
              else pd.Series(1.0, index=frame.index))
    return pd.DataFrame({
        "item": frame[params.item_column].astype("string").fillna("(blank)"),
        "review": frame[params.review_column], "auto": on_scale(params.auto_column),
        "human": on_scale(params.human_column), "confirmed": _confirmed(frame, params),
        "weight": weight}, index=frame.index)


# --- per item --------------------------------------------------------------------------------


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def pair_agreement(auto: np.ndarray, human: np.ndarray, params: AutoQaParams) -> dict[str, Any]:
    """Kappa and AC1 (or their weighted forms) with their table-form SE and t interval, the
    share of identical ratings, and the bias (automatic - human) with its paired t interval."""
    n = len(auto)
    row: dict[str, Any] = {"pairs": n, "same_rating": float(np.mean(auto == human)) if n else None}
    for key in ("kappa", "ac", "bias"):
        row.update({key: None, f"{key}_se": None, f"{key}_low": None, f"{key}_high": None})
    if n < 2:
        return row
    levels = params.levels
    q = len(levels)
    a = (auto - params.scale_min).astype(int)
    h = (human - params.scale_min).astype(int)
    table = np.zeros((q, q))
    np.add.at(table, (a, h), 1.0)
    level = params.confidence
    with np.errstate(divide="ignore", invalid="ignore"):  # one category throughout: NaN
        kappa, kappa_se = agreement.cohens_kappa(table, params.weights, levels)
    if kappa == 1.0 and not math.isfinite(kappa_se):
        kappa_se = 0.0  # statsmodels' variance is 0/0 when every pair agrees; it is 0
    counts = np.zeros((n, q))
    np.add.at(counts, (np.arange(n), a), 1.0)
    np.add.at(counts, (np.arange(n), h), 1.0)
    gwet = agreement.gwet_ac(counts, None if params.weights == "none"
                             else agreement.agreement_weights(levels, params.weights))
    for key, value, se in (("kappa", kappa, kappa_se), ("ac", gwet.value, gwet.table_se)):
        bounds = agreement.two_rater_interval(value, se, n, level)
        row.update({key: _finite(value), f"{key}_se": _finite(se),
                    f"{key}_low": bounds[0] if bounds else None,
                    f"{key}_high": bounds[1] if bounds else None})
    difference = auto - human
    mean, sd = float(difference.mean()), float(difference.std(ddof=1))
    low, high = intervals.t_interval_from_stats(mean, sd, n, level)
    row.update(bias=mean, bias_se=sd / math.sqrt(n), bias_low=low, bias_high=high)
    return row


def stand_in(row: Mapping[str, Any], params: AutoQaParams) -> tuple[str, list[str]]:
    """``stands_in``, ``cannot_stand_in`` or ``not_judged``, and why."""
    if row["pairs"] < params.min_pairs:
        return "not_judged", ["few_pairs"]
    if row["agreement"] is None:  # every rating in one category: kappa has no value
        return "not_judged", ["undefined"]
    reasons = []
    if row["agreement_low"] is None or row["agreement_low"] < params.min_agreement:
        reasons.append("agreement")
    if row["bias_low"] < -params.max_bias or row["bias_high"] > params.max_bias:
        reasons.append("bias")
    return ("cannot_stand_in" if reasons else "stands_in"), reasons


def item_table(rows: pd.DataFrame, params: AutoQaParams) -> list[dict[str, Any]]:
    """One row per item the automatic scorer rated: agreement, bias and its verdict."""
    rated = rows.loc[rows["auto"].notna()]
    key = "ac" if params.coefficient == "ac1" else "kappa"
    out = []
    for item, part in rated.groupby("item", sort=True):
        both = part.loc[part["human"].notna()]
        row = {"item": str(item), "automatic": len(part),
               **pair_agreement(both["auto"].to_numpy(float), both["human"].to_numpy(float),
                                params)}
        row.update({"agreement": row[key], "agreement_se": row[f"{key}_se"],
                    "agreement_low": row[f"{key}_low"], "agreement_high": row[f"{key}_high"]})
        row["status"], row["reasons"] = stand_in(row, params)
        out.append(row)
    return out


def add_drift(items: list[dict[str, Any]], before: list[dict[str, Any]] | None,
              params: AutoQaParams) -> int:
    """Each item's coefficient against the previous period's (z-test, Holm across the items
    with enough pairs in both); returns how many were tested."""
    previous = {row["item"]: row for row in before or ()}
    tested = []
    for row in items:
        earlier = previous.get(row["item"])
        row.update(previous_pairs=earlier["pairs"] if earlier else 0,
                   previous_agreement=earlier["agreement"] if earlier else None,
                   previous_low=earlier["agreement_low"] if earlier else None,
                   previous_high=earlier["agreement_high"] if earlier else None,
                   drift_z=None, drift_p=None, drift_p_adjusted=None, drifted=False)
        if (earlier is None or min(row["pairs"], earlier["pairs"]) < params.min_pairs
                or row["agreement_se"] is None or earlier["agreement_se"] is None):
            continue
        z, p = significance.difference_ztest(row["agreement"], row["agreement_se"],
                                             earlier["agreement"], earlier["agreement_se"])
        if math.isfinite(p):
            row.update(drift_z=z, drift_p=p)
            tested.append(row)
    adjusted, rejected = significance.holm_rejections([r["drift_p"] for r in tested],
                                                      params.alpha)
    for row, p, drifted in zip(tested, adjusted, rejected, strict=True):
        row.update(drift_p_adjusted=p, drifted=drifted)
    return len(tested)


# --- the IQS, with the automatic scores kept apart --------------------------------------------


def _iqs(score: pd.Series, rows: pd.DataFrame) -> dict[str, Any]:
    """The mean of review scores, each the weighted mean of its scored items."""
    valid = score.notna() & rows["weight"].notna() & (rows["weight"] > 0)
    if not valid.any():
        return {"iqs": None, "reviews": 0}
    part = pd.DataFrame({"review": rows["review"], "weighted": score * rows["weight"],
                         "weight": rows["weight"]}).loc[valid]
    sums = part.groupby("review", sort=False)[["weighted", "weight"]].sum()
    per_review = sums["weighted"] / sums["weight"]
    return {"iqs": float(per_review.mean()), "reviews": len(per_review)}


def iqs_details(rows: pd.DataFrame, params: AutoQaParams) -> dict[str, Any]:
    """The human IQS, the IQS with confirmed automatic scores, the IQS if every automatic
    score counted, and how many automatic scores were kept apart."""
    span = params.scale_max - params.scale_min

    def score(ratings: pd.Series) -> pd.Series:
        return (ratings - params.scale_min) / span * 100.0

    automatic_only = rows["auto"].notna() & rows["human"].isna()
    confirmed = automatic_only & rows["confirmed"]
    kept = automatic_only & ~rows["confirmed"]
    counted = rows["human"].where(rows["human"].notna(), rows["auto"].where(confirmed))
    reviews_counted = set(rows.loc[counted.notna(), "review"])
    kept_reviews = set(rows.loc[kept, "review"]) - reviews_counted
    return {
        "human": _iqs(score(rows["human"]), rows),
        "confirmed": _iqs(score(counted), rows),
        "all_automatic_counted": _iqs(score(rows["human"].fillna(rows["auto"])), rows),
        "automatic_scores": int(rows["auto"].notna().sum()),
        "double_scored": int((rows["auto"].notna() & rows["human"].notna()).sum()),
        "confirmed_scores": int(confirmed.sum()), "kept_apart": int(kept.sum()),
        "kept_apart_reviews": len(kept_reviews),
        "confirmed_column": params.confirmed_column}



@CALCULATORS.register("autoqa_governance")
class AutoQaGovernance(Calculator):
    """Rubric items on which the automatic score can stand in for reviewers."""

    name = "autoqa_governance"
    Params = AutoQaParams
    unit = "count"
    direction = "higher"
    estimate_kind = "count"
    formula = ("rubric items ({item_column}) on which {auto_column} can stand in for "
               "{human_column}: at least {min_pairs} double-scored ratings, the lower bound of "
               "the {level} interval of {coefficient_name} at least {min_agreement}, and the "
               "interval of the mean automatic - human rating within +-{max_bias} points; "
               "drift against the previous period by a z-test, Holm across items at {alpha}")

    def describe(self, params: CalculatorParams) -> str:
        assert isinstance(params, AutoQaParams)
        counted = (f"automatic ratings count toward the IQS only where {params.confirmed_column}"
                   f" names the reviewer who confirmed them" if params.confirmed_column
                   else "no automatic rating counts toward the IQS (no confirmation column)")
        formula = self.formula.format(
            **params.model_dump(), level=f"{plain(params.confidence * 100)}%",
            coefficient_name=coefficient_name(params.coefficient, params.weights))
        return f"{formula}; {counted}"

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, AutoQaParams)
        return (off_scale(params.auto_column, params, "automatic rating"),
                off_scale(params.human_column, params, "reviewer rating"))

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Count:
        assert isinstance(params, AutoQaParams)
        items = item_table(scored_rows(frame, params), params)
        return Count(sum(row["status"] == "stands_in" for row in items), observed=len(items))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, AutoQaParams)
        rows = scored_rows(frame, params)
        items = item_table(rows, params)
        before = history.previous() if history is not None else None
        previous = None if before is None else item_table(scored_rows(before, params), params)
        tested = add_drift(items, previous, params)
        return {
            "coefficient": params.coefficient, "weights": params.weights,
            "coefficient_name": coefficient_name(params.coefficient, params.weights),
            "min_agreement": params.min_agreement, "max_bias": params.max_bias,
            "min_pairs": params.min_pairs, "alpha": params.alpha,
            "confidence": params.confidence, "items": items, "drift_tested": tested,
            "has_previous": bool(previous), "iqs": iqs_details(rows, params)}
