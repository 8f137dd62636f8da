"""QA audit calculators over a weighted scorecard: QA score, IQS, pass rate, auto-fail rate and
defect rate.

The scorecard's rows and score are described in ``metrics.scorecard``; the grouping of audits
by agent in ``metrics.scorecard_clustering``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from reportgen.metrics.base import CALCULATORS, CalculatorParams, Exclusion, outside
from reportgen.metrics.estimates import Proportion
from reportgen.metrics.scorecard import ScorecardCalculator, category_score, review_score, reviews
from reportgen.metrics.scorecard_clustering import (
    ClusteredMeanScore,
    ClusteredParams,
    ClusteredRate,
    StatsOf,
    clustered_by_default,
    clustered_proportion,
    clustered_proportions,
)

if TYPE_CHECKING:
    import pandas as pd
    from pandas.core.groupby import DataFrameGroupBy

    from reportgen.data.aggregates import Aggregation, Cols
    from reportgen.metrics.estimates import Estimate
    from reportgen.period import Period


@CALCULATORS.register("qa_score")
class QaScore(ClusteredMeanScore):
    """Mean weighted scorecard score of the period's reviews (0-100)."""

    name = "qa_score"
    Params = ClusteredParams
    formula = (
        "mean over reviews of the weighted mean of category scores, where category score = "
        "(selected - min) / (max - min) x 100, N/A categories excluded; a failed critical "
        "category scores the review 0"
    )

    def value_aggregation(self, params: ClusteredParams, stats_of: StatsOf) -> Aggregation:
        return reviews(params, stats_of(review_score))


class IqsParams(ClusteredParams):
    column_fields: ClassVar[tuple[str, ...]] = (*ClusteredParams.column_fields, "score_column")
    score_column: str | None = Field(
        None, description="Column with each review's score (0-100) already computed, e.g. from a "
                          "Zendesk QA export; when set, the scorecard columns are not read.")

    def columns(self) -> list[str]:
        if self.score_column is not None:
            return [self.review_column, self.score_column,
                    *([self.cluster_column] if self.cluster_column else [])]
        return super().columns()


@CALCULATORS.register("iqs")
class Iqs(ClusteredMeanScore):
    """Internal Quality Score (Zendesk QA): the mean of the period's review scores (0-100)."""

    name = "iqs"
    Params = IqsParams
    formula = ("mean of review scores (one per review; from {score_column} when given, else the "
               "weighted scorecard score as in qa_score)")

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, IqsParams)
        if params.score_column is None:
            return super().exclusions(params)
        # Only the review's score is read: a score off 0-100 is the error to count.
        return (outside(params.score_column, 0, 100, "review score"),)

    def value_aggregation(self, params: ClusteredParams, stats_of: StatsOf) -> Aggregation:
        import sqlalchemy as sa

        from reportgen.data.aggregates import Aggregation

        assert isinstance(params, IqsParams)
        if params.score_column is None:
            return reviews(params, stats_of(review_score))
        # One score per review, even when the source repeats it on every category row; a
        # score off 0-100 is left out (and counted, see ``exclusions``).
        column = params.score_column

        def score(cols: Cols) -> Any:
            value = cols.num(column)
            return sa.func.min(sa.case((value.between(0, 100), value), else_=sa.null()))

        return Aggregation(stats_of(lambda cols: cols.num("score")),
                           per=params.review_column, per_measures={"score": score})


class PassRateParams(ClusteredParams):
    pass_from: float = Field(80.0, ge=0, le=100, description="A review scoring at or above this (0-100) passes.")


@CALCULATORS.register("pass_rate")
class PassRate(ClusteredRate):
    """The share of reviews whose score reaches the pass mark."""

    name = "pass_rate"
    Params = PassRateParams
    unit = "percent"
    direction = "higher"
    additive = True
    estimate_kind = "proportion"
    formula = "reviews scoring >= {pass_from} / all scored reviews (review score as in qa_score)"

    def review_aggregation(self, params: ClusteredParams) -> Aggregation:
        from reportgen.data.aggregates import count_if

        assert isinstance(params, PassRateParams)
        # A small tolerance so a 79.99999 from float weights does not fail an 80 pass mark.
        return reviews(params, {
            "trials": lambda cols: count_if(review_score(cols).is_not(None)),
            "successes": lambda cols: count_if(review_score(cols) >= params.pass_from - 1e-9),
        })


@CALCULATORS.register("auto_fail_rate")
class AutoFailRate(ClusteredRate):
    """The share of reviews failed outright by a critical category."""

    name = "auto_fail_rate"
    Params = ClusteredParams
    unit = "percent"
    direction = "lower"
    additive = True
    estimate_kind = "proportion"
    formula = ("reviews with a critical category scoring <= {critical_fail_at_or_below} / "
               "all reviews with a rated category")

    def review_aggregation(self, params: ClusteredParams) -> Aggregation:
        from reportgen.data.aggregates import count_if

        return reviews(params, {
            "trials": lambda cols: count_if(cols.num("rated") > 0),
            "successes": lambda cols: count_if((cols.num("rated") > 0)
                                               & (cols.num("failed") == 1)),
        })


class DefectParams(ClusteredParams):
    defect_at_or_below: float = Field(
        50.0, ge=0, lt=100,
        description="A category scoring at or below this (0-100) is a defect; 50 = the lower "
                    "half of the scale (1-2 on 1-4, 0 on 0-1).")


@CALCULATORS.register("defect_rate")
class DefectRate(ScorecardCalculator):
    """The share of rated review x category pairs that are defects (break down by category).

    The rows of one review are never independent (one weak review has several defects):
    the interval and change test always allow for clusters, by agent when the source
    declares one (reviews nest in agents), else by review.
    """

    name = "defect_rate"
    Params = DefectParams
    unit = "percent"
    direction = "lower"
    additive = True
    estimate_kind = "proportion"
    formula = ("rated categories scoring <= {defect_at_or_below} / rated categories (N/A "
               "excluded); per category: reviews with a defect in it / reviews that rated it")

    def for_source(self, params: CalculatorParams, declared: Collection[str]) -> CalculatorParams:
        return clustered_by_default(params, declared)

    def describe(self, params: CalculatorParams) -> str:
        assert isinstance(params, DefectParams)
        by = params.cluster_column or params.review_column
        return f"{super().describe(params)}; clustered by {by}"

    def row_aggregation(self, params: DefectParams) -> Aggregation:
        from reportgen.data.aggregates import Aggregation, count_if

        return Aggregation({
            "trials": lambda cols: count_if(category_score(cols, params).is_not(None)),
            "successes": lambda cols: count_if(category_score(cols, params)
                                               <= params.defect_at_or_below),
        })

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, DefectParams)
        return clustered_proportion(frame, params, self.row_aggregation(params))

    def estimate_groups(self, groups: DataFrameGroupBy, params: CalculatorParams,
                        period: Period) -> dict[Any, Estimate]:
        assert isinstance(params, DefectParams)
        return clustered_proportions(groups, params, self.row_aggregation(params))
