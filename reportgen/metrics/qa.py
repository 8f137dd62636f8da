"""QA audit calculators over a weighted scorecard in long format (one row per review x category).

Rows: ``review_id``, ``category``, ``weight``, ``critical`` (1 = a failure fails the whole
review), ``rating`` (blank = N/A), ``scale_min``, ``scale_max``.  A category's score is
``(rating - scale_min) / (scale_max - scale_min) x 100``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, model_validator

from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, Exclusion, outside
from reportgen.metrics.clustered_estimates import ClusteredMean, ClusteredProportion
from reportgen.metrics.estimates import Mean, Proportion, mean_from, proportion_from

if TYPE_CHECKING:
    import pandas as pd

    from reportgen.data.aggregates import Aggregation, Cols, Measure


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


def category_score(cols: Cols, params: ScorecardParams) -> Any:
    """Score (0-100) of a review x category row; NULL when not rated (N/A) or rated off the
    category's scale (a 7 on a 1-4 scale is an error in the data, not a 200% score: it is
    left out and counted, see ``off_scale_ratings``)."""
    import sqlalchemy as sa

    rating = cols.num(params.rating_column)
    low, high = cols.num(params.scale_min_column), cols.num(params.scale_max_column)
    return sa.case((rating.between(low, high), (rating - low) / sa.func.nullif(high - low, 0)
                    * 100.0), else_=sa.null())


def off_scale_ratings(params: ScorecardParams) -> Exclusion:
    """Ratings outside their own category's scale (the scale is a column of each row)."""

    def condition(cols: Cols) -> Any:
        import sqlalchemy as sa

        rating = cols.num(params.rating_column)
        low, high = cols.num(params.scale_min_column), cols.num(params.scale_max_column)
        return sa.and_(rating.is_not(None), low.is_not(None), high.is_not(None),
                       sa.not_(rating.between(low, high)))

    return Exclusion("off_scale", "rating", "outside its category's scale", condition)


class ScorecardCalculator(Calculator):
    """A calculator over scorecard rows: ratings off their category's scale are left out."""

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, ScorecardParams)
        return (off_scale_ratings(params),)


def _review_measures(params: ScorecardParams) -> dict[str, Measure]:
    """Per review: weighted score sum, weight of rated categories, rated count, critical fail."""
    import sqlalchemy as sa

    def weighted(cols: Cols) -> Any:
        return sa.func.sum(category_score(cols, params) * cols.num(params.weight_column))

    def weight(cols: Cols) -> Any:
        rated = category_score(cols, params).is_not(None)
        return sa.func.sum(sa.case((rated, cols.num(params.weight_column))))

    def failed(cols: Cols) -> Any:
        if params.critical_column is None:
            return sa.literal(0)
        score = category_score(cols, params)
        critical = sa.func.coalesce(cols.num(params.critical_column), 0) == 1
        return sa.func.max(sa.case((critical & (score <= params.critical_fail_at_or_below), 1),
                                   else_=0))

    return {"weighted": weighted, "weight": weight,
            "rated": lambda cols: sa.func.count(category_score(cols, params)),
            "failed": failed}


def review_score(cols: Cols) -> Any:
    """A review's score from its per-review aggregates: the weighted mean of its rated
    categories, or 0 when a critical category failed; NULL when it has none rated."""
    import sqlalchemy as sa

    rated = cols.num("rated") > 0
    mean = cols.num("weighted") / sa.func.nullif(cols.num("weight"), 0)
    return sa.case((rated & (cols.num("failed") == 1), 0.0), (rated, mean), else_=sa.null())


def reviews(params: ScorecardParams, measures: Mapping[str, Measure]) -> Aggregation:
    """An aggregation over reviews (one unit per review id) of the given review measures."""
    from reportgen.data.aggregates import Aggregation

    return Aggregation(measures, per=params.review_column, per_measures=_review_measures(params))


#: the column a source declares for the audited agent; QA rates and scores cluster by it
AGENT_COLUMN = "agent_id"


class ClusteredParams(ScorecardParams):
    column_fields: ClassVar[tuple[str, ...]] = (*ScorecardParams.column_fields, "cluster_column")
    cluster_column: str | None = Field(
        None, description="Column naming the cluster an audit belongs to (the audited agent): "
                          "the interval and change test then allow for audits of one agent "
                          "resembling each other (cluster-robust design effect). Defaults to "
                          "agent_id when the source's columns declare it.")
    unclustered_because: str | None = Field(
        None, min_length=3,
        description="Turns the default clustering by agent off, saying why (e.g. 'each agent "
                    "is audited once a month'); the methodology quotes it.")

    @model_validator(mode="after")
    def _off_says_why(self) -> ClusteredParams:
        if self.cluster_column is not None and self.unclustered_because is not None:
            raise ValueError("set either 'cluster_column' or 'unclustered_because', not both")
        if ("cluster_column" in self.model_fields_set and self.cluster_column is None
                and self.unclustered_because is None):
            raise ValueError("audits are clustered by agent by default; to turn it off, say "
                             "why in 'unclustered_because' instead of 'cluster_column: null'")
        return self


def clustering_text(params: ClusteredParams) -> str:
    """How the interval treats the audits, for the methodology."""
    if params.cluster_column is not None:
        return f"; clustered by {params.cluster_column}"
    if params.unclustered_because is not None:
        return f"; not clustered: {params.unclustered_because}"
    return ""


def clustered_by_default(params: CalculatorParams, declared: Collection[str]) -> CalculatorParams:
    """``params`` clustered by the source's declared agent column unless they say otherwise."""
    assert isinstance(params, ClusteredParams)
    if (params.cluster_column is None and params.unclustered_because is None
            and AGENT_COLUMN in declared):
        return params.model_copy(update={"cluster_column": AGENT_COLUMN})
    return params


#: builds a value's statistics over review rows: e.g. n, mean and variance, or n, sum, sumsq
StatsOf = Callable[["Measure"], Mapping[str, "Measure"]]


def mean_stats_of(value: Measure) -> Mapping[str, Measure]:
    from reportgen.data.aggregates import mean_aggregation

    return mean_aggregation(value).measures


def cluster_sums_of(value: Measure) -> Mapping[str, Measure]:
    import sqlalchemy as sa

    return {"n": lambda cols: sa.func.count(value(cols)),
            "sum": lambda cols: sa.func.sum(value(cols)),
            "sumsq": lambda cols: sa.func.sum(value(cols) * value(cols))}


def _clusters(frame: pd.DataFrame, params: ClusteredParams) -> pd.Series:
    """Each row's cluster: its agent, or its review when no agent column is set; audits
    with no agent recorded are each their own cluster (the most honest choice: merging
    them would invent a grouping)."""
    reviews = frame[params.review_column]
    if params.cluster_column is None:
        return reviews.astype(object)
    column = frame[params.cluster_column]
    return column.astype(object).where(column.notna(), "\0" + reviews.astype(str))


def clustered_proportion(frame: pd.DataFrame, params: ClusteredParams,
                         aggregation: Aggregation) -> ClusteredProportion:
    """A share whose sums come per cluster from one grouped statement over the rows."""
    from reportgen.data.frames import aggregate_by

    groups = aggregate_by(frame, _clusters(frame, params), aggregation)
    sums = [(float(v.get("successes") or 0), float(v["trials"]))
            for v in groups.values() if v.get("trials")]
    return ClusteredProportion(
        sum(s for s, _ in sums), sum(t for _, t in sums),
        cluster_successes=tuple(s for s, _ in sums), cluster_trials=tuple(t for _, t in sums))


class _ClusteredMeanScore(ScorecardCalculator):
    """A mean of one value per review that can be clustered by agent (``cluster_column``).

    Unclustered, the aggregates run where the data lives.  Clustered, the rows are read and
    each cluster's count, sum and sum of squares come from one query over them, for the
    cluster-robust variance of the mean.
    """

    unit = "score"
    direction = "higher"
    estimate_kind = "mean"

    def for_source(self, params: CalculatorParams, declared: Collection[str]) -> CalculatorParams:
        return clustered_by_default(params, declared)

    def describe(self, params: CalculatorParams) -> str:
        assert isinstance(params, ClusteredParams)
        return super().describe(params) + clustering_text(params)

    def value_aggregation(self, params: ClusteredParams, stats_of: StatsOf) -> Aggregation:
        """The review-level aggregation of the calculator's value, summarised by ``stats_of``."""
        raise NotImplementedError

    def aggregation(self, params: CalculatorParams) -> Aggregation | None:
        assert isinstance(params, ClusteredParams)
        return None if params.cluster_column else self.value_aggregation(params, mean_stats_of)

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Mean:
        return mean_from(values)

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Mean:
        assert isinstance(params, ClusteredParams)
        from reportgen.data.frames import aggregate_by, aggregate_frame

        if params.cluster_column is None:
            return mean_from(aggregate_frame(frame, self.value_aggregation(params,
                                                                          mean_stats_of)))
        groups = aggregate_by(frame, _clusters(frame, params),
                              self.value_aggregation(params, cluster_sums_of))
        sums = [v for v in groups.values() if v.get("n")]
        return ClusteredMean.of_clusters(tuple(float(v["n"]) for v in sums),
                                         tuple(float(v["sum"]) for v in sums),
                                         tuple(float(v["sumsq"]) for v in sums))


@CALCULATORS.register("qa_score")
class QaScore(_ClusteredMeanScore):
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
class Iqs(_ClusteredMeanScore):
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


class _ClusteredRate(ScorecardCalculator):
    """A share of reviews that can be clustered by agent (``cluster_column``).

    Unclustered, the aggregates run where the data lives.  Clustered, the period's rows are
    read and one statement grouped by cluster gives each cluster's sums, which the design
    effect needs (the data layer reduces to one unit level only: the review).
    """

    def review_aggregation(self, params: ClusteredParams) -> Aggregation:
        raise NotImplementedError

    def aggregation(self, params: CalculatorParams) -> Aggregation | None:
        assert isinstance(params, ClusteredParams)
        return None if params.cluster_column else self.review_aggregation(params)

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Proportion:
        return proportion_from(values)

    def for_source(self, params: CalculatorParams, declared: Collection[str]) -> CalculatorParams:
        return clustered_by_default(params, declared)

    def describe(self, params: CalculatorParams) -> str:
        assert isinstance(params, ClusteredParams)
        return super().describe(params) + clustering_text(params)

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, ClusteredParams)
        from reportgen.data.frames import aggregate_frame

        aggregation = self.review_aggregation(params)
        if params.cluster_column is None:
            return proportion_from(aggregate_frame(frame, aggregation))
        return clustered_proportion(frame, params, aggregation)


@CALCULATORS.register("pass_rate")
class PassRate(_ClusteredRate):
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
class AutoFailRate(_ClusteredRate):
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
