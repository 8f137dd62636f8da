"""A weighted QA scorecard in long format (one row per review x category): its params, each
category's score, and the per-review aggregation every QA calculator starts from.

Rows: ``review_id``, ``category``, ``weight``, ``critical`` (1 = a failure fails the whole
review), ``rating`` (blank = N/A), ``scale_min``, ``scale_max``.  A category's score is
``(rating - scale_min) / (scale_max - scale_min) x 100``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from reportgen.metrics.base import Calculator, CalculatorParams, Exclusion

if TYPE_CHECKING:

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
