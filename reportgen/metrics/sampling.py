"""Audit sampling: how many reviews a margin of error needs, and the margin achieved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from reportgen._lazy import lazy
from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, HistoryFrames
from reportgen.metrics.estimates import Count

if TYPE_CHECKING:
    import pandas as pd

    from reportgen.stats import intervals
else:
    pd = lazy("pandas")
    intervals = lazy("reportgen.stats.intervals")


class SampleSizeParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("review_column",)
    review_column: str = Field("review_id", description="Column identifying a review; distinct values are counted.")
    margin: float = Field(0.05, gt=0, lt=0.5, description="Wanted half-width of the interval, as a fraction (0.05 = +-5 points).")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Confidence level the margin holds at.")
    proportion: float = Field(0.5, gt=0, lt=1, description="Expected rate (e.g. pass rate); 0.5 is the worst case and the usual planning value.")
    population: int | None = Field(None, ge=1, description="Tickets eligible for review in a period; enables the finite-population correction.")


@CALCULATORS.register("audit_sample_size")
class AuditSampleSize(Calculator):
    """Reviews needed per period for a rate within +-margin; the achieved margin is in details."""

    name = "audit_sample_size"
    Params = SampleSizeParams
    unit = "count"
    direction = "higher"
    estimate_kind = "count"
    formula = ("n = z^2 p (1 - p) / margin^2 with p = {proportion}, margin = {margin}, "
               "confidence = {confidence}; with a population N: n / (1 + (n - 1) / N), rounded up")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Count:
        # The value is the plan; n is the reviews actually done, so a period without audits
        # is reported as having no data rather than as a plan that needs none.
        assert isinstance(params, SampleSizeParams)
        required = intervals.sample_size(params.margin, params.confidence, params.proportion,
                                     params.population)
        return Count(float(required), observed=int(frame[params.review_column].nunique()))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, SampleSizeParams)
        achieved = int(frame[params.review_column].nunique())
        required = intervals.sample_size(params.margin, params.confidence, params.proportion,
                                     params.population)
        return {
            "required": required,
            "achieved": achieved,
            "shortfall": max(required - achieved, 0),
            "margin_target": params.margin,
            "margin_achieved": intervals.margin_of_error(achieved, params.confidence,
                                                     params.proportion, params.population),
            "confidence": params.confidence,
            "population": params.population,
        }
