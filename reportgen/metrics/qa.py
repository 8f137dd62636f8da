"""QA audit calculators over a weighted scorecard in long format (one row per review x category).

Rows: ``review_id``, ``category``, ``weight``, ``critical`` (1 = a failure fails the whole
review), ``rating`` (blank = N/A), ``scale_min``, ``scale_max``.  A category's score is
``(rating - scale_min) / (scale_max - scale_min) x 100``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams
from reportgen.metrics.columns import numeric
from reportgen.metrics.estimates import Mean, Proportion


class ScorecardParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = (
        "review_column", "rating_column", "weight_column", "critical_column",
        "scale_min_column", "scale_max_column",
    )
    review_column: str = Field("review_id", description="Column identifying the review.")
    rating_column: str = Field("rating", description="Selected rating; empty means N/A.")
    weight_column: str = Field("weight", description="Category weight.")
    critical_column: str | None = Field("critical", description="1 for critical categories.")
    scale_min_column: str = Field("scale_min", description="Lowest rating of the category's scale.")
    scale_max_column: str = Field("scale_max", description="Highest rating of the category's scale.")
    critical_fail_at_or_below: float = Field(
        0.0, ge=0, lt=100,
        description="A critical category scoring at or below this (0-100) fails the whole review.")


def category_scores(frame: pd.DataFrame, params: ScorecardParams) -> pd.Series:
    """Score (0-100) of every rated review x category row, indexed like ``frame``; N/A rows left out."""
    rating = numeric(frame, params.rating_column)
    low = numeric(frame, params.scale_min_column)
    high = numeric(frame, params.scale_max_column)
    score = (rating - low) / (high - low).replace(0, np.nan) * 100.0
    return score.dropna()


def failed_critical(frame: pd.DataFrame, params: ScorecardParams) -> pd.Series:
    """Per review id (every review with a rated category): whether a critical category failed."""
    scores = category_scores(frame, params)
    rated = frame.loc[scores.index]
    reviews = rated[params.review_column]
    if params.critical_column is None:
        return pd.Series(False, index=pd.Index(reviews.unique()))
    critical = numeric(rated, params.critical_column).fillna(0) == 1
    failed = critical & (scores <= params.critical_fail_at_or_below)
    return failed.groupby(reviews, sort=True).any()


def review_scores(frame: pd.DataFrame, params: ScorecardParams) -> pd.Series:
    """Score of each review (0-100), indexed by review id; reviews with every category N/A are left out.

    review score = weighted mean of the rated categories' scores; a failed critical
    category sets the review to 0.
    """
    scores = category_scores(frame, params)
    if scores.empty:
        return pd.Series(dtype=float)
    rated = frame.loc[scores.index]
    weight = numeric(rated, params.weight_column)
    review = rated[params.review_column]
    weighted = (scores * weight).groupby(review, sort=True).sum()
    weights = weight.groupby(review, sort=True).sum()
    result = weighted / weights.replace(0, np.nan)
    failed = failed_critical(frame, params)
    result.loc[failed.reindex(result.index, fill_value=False).to_numpy(bool)] = 0.0
    return result.dropna()


@CALCULATORS.register("qa_score")
class QaScore(Calculator):
    """Mean weighted scorecard score of the period's reviews (0-100)."""

    name = "qa_score"
    Params = ScorecardParams
    unit = "score"
    direction = "higher"
    estimate_kind = "mean"
    formula = (
        "mean over reviews of the weighted mean of category scores, where category score = "
        "(selected - min) / (max - min) x 100, N/A categories excluded; a failed critical "
        "category scores the review 0"
    )

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Mean:
        assert isinstance(params, ScorecardParams)
        return Mean(review_scores(frame, params).to_numpy(dtype=float))


class IqsParams(ScorecardParams):
    column_fields: ClassVar[tuple[str, ...]] = (*ScorecardParams.column_fields, "score_column")
    score_column: str | None = Field(
        None, description="Column with each review's score (0-100) already computed, e.g. from a "
                          "Zendesk QA export; when set, the scorecard columns are not read.")

    def columns(self) -> list[str]:
        if self.score_column is not None:
            return [self.review_column, self.score_column]
        return super().columns()


@CALCULATORS.register("iqs")
class Iqs(Calculator):
    """Internal Quality Score (Zendesk QA): the mean of the period's review scores (0-100)."""

    name = "iqs"
    Params = IqsParams
    unit = "score"
    direction = "higher"
    estimate_kind = "mean"
    formula = ("mean of review scores (one per review; from {score_column} when given, else the "
               "weighted scorecard score as in qa_score)")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Mean:
        assert isinstance(params, IqsParams)
        if params.score_column is None:
            return Mean(review_scores(frame, params).to_numpy(dtype=float))
        # One score per review, even when the source repeats it on every category row.
        scores = numeric(frame, params.score_column).groupby(frame[params.review_column]).first()
        return Mean(scores.dropna().to_numpy(dtype=float))


class PassRateParams(ScorecardParams):
    pass_from: float = Field(80.0, ge=0, le=100, description="A review scoring at or above this (0-100) passes.")


@CALCULATORS.register("pass_rate")
class PassRate(Calculator):
    """The share of reviews whose score reaches the pass mark."""

    name = "pass_rate"
    Params = PassRateParams
    unit = "percent"
    direction = "higher"
    additive = True
    estimate_kind = "proportion"
    formula = "reviews scoring >= {pass_from} / all scored reviews (review score as in qa_score)"

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, PassRateParams)
        scores = review_scores(frame, params)
        # A small tolerance so a 79.99999 from float weights does not fail an 80 pass mark.
        return Proportion(float((scores >= params.pass_from - 1e-9).sum()), float(len(scores)))


@CALCULATORS.register("auto_fail_rate")
class AutoFailRate(Calculator):
    """The share of reviews failed outright by a critical category."""

    name = "auto_fail_rate"
    Params = ScorecardParams
    unit = "percent"
    direction = "lower"
    additive = True
    estimate_kind = "proportion"
    formula = ("reviews with a critical category scoring <= {critical_fail_at_or_below} / "
               "all reviews with a rated category")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, ScorecardParams)
        failed = failed_critical(frame, params)
        return Proportion(float(failed.sum()), float(len(failed)))


class DefectParams(ScorecardParams):
    defect_at_or_below: float = Field(
        50.0, ge=0, lt=100,
        description="A category scoring at or below this (0-100) is a defect; 50 = the lower "
                    "half of the scale (1-2 on 1-4, 0 on 0-1).")


@CALCULATORS.register("defect_rate")
class DefectRate(Calculator):
    """The share of rated review x category pairs that are defects (break down by category)."""

    name = "defect_rate"
    Params = DefectParams
    unit = "percent"
    direction = "lower"
    additive = True
    estimate_kind = "proportion"
    formula = ("rated categories scoring <= {defect_at_or_below} / rated categories (N/A "
               "excluded); per category: reviews with a defect in it / reviews that rated it")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, DefectParams)
        scores = category_scores(frame, params)
        return Proportion(float((scores <= params.defect_at_or_below).sum()), float(len(scores)))
