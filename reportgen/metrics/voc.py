"""Voice-of-customer calculators: CSAT, DSAT, NPS, CES and the survey response rate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from reportgen.metrics.base import (
    CALCULATORS,
    Calculator,
    CalculatorParams,
    Exclusion,
    not_a_flag,
    only_where,
    outside,
)
from reportgen.metrics.estimates import Mean, Proportion, mean_from, proportion_from
from reportgen.metrics.quantile_and_net_score import NetScore
from reportgen.period import Period
from reportgen.report.model.metric_results import Scale

if TYPE_CHECKING:
    from reportgen.data.aggregates import Aggregation, Cols


class RatingParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("column",)
    column: str = Field("rating", description="Column holding the survey rating.")
    scale: int = Field(5, ge=2, le=11, description="Top of the rating scale (1..scale); ratings outside it are left out and counted in the data-quality note.")
    good_from: int = Field(4, ge=1, description="Ratings at or above this count as satisfied.")

    @model_validator(mode="after")
    def _within_scale(self) -> RatingParams:
        if self.good_from > self.scale:
            raise ValueError(f"good_from ({self.good_from}) is above the scale's top ({self.scale})")
        return self


def _on_scale(cols: Cols, column: str, low: int, high: int) -> Any:
    """The rating is a number on the scale ``low..high`` (blanks and off-scale values are
    out; the off-scale ones are counted, see ``exclusions``)."""
    return cols.num(column).between(low, high)


def _rating_counts(params: RatingParams) -> dict[str, Any]:
    """A count per rating level (for the distribution chart)."""
    from reportgen.data.aggregates import count_if

    def level_count(level: int) -> Any:
        return lambda cols: count_if(cols.num(params.column) == level)

    return {f"level_{level}": level_count(level) for level in range(1, params.scale + 1)}


def _distribution(params: RatingParams,
                  history: Sequence[tuple[Period, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    return [{"period": period.key, "label": period.short_label,
             "counts": {str(level): int(values.get(f"level_{level}") or 0)
                        for level in range(1, params.scale + 1)}}
            for period, values in history]


@CALCULATORS.register("csat")
class Csat(Calculator):
    """Customer satisfaction: the share of responses rated in the top box(es)."""

    name = "csat"
    Params = RatingParams
    unit = "percent"
    direction = "higher"
    additive = True
    estimate_kind = "proportion"
    n_noun = "response"
    formula = "responses rated {good_from} to {scale} / all responses rated 1 to {scale}"

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        from reportgen.data.aggregates import Aggregation, count_if

        assert isinstance(params, RatingParams)

        def rated(cols: Cols) -> Any:
            return count_if(_on_scale(cols, params.column, 1, params.scale))

        def good(cols: Cols) -> Any:
            return count_if(_on_scale(cols, params.column, params.good_from, params.scale))

        return Aggregation({"trials": rated, "successes": good, **_rating_counts(params)})

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, RatingParams)
        return (outside(params.column, 1, params.scale, "rating"),)

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Proportion:
        return proportion_from(values)

    def details_from_aggregates(self, current: Mapping[str, Any], params: CalculatorParams,
                                history: Sequence[tuple[Period, Mapping[str, Any]]]
                                ) -> Mapping[str, Any]:
        assert isinstance(params, RatingParams)
        return {"distribution": _distribution(params, history)}


class DsatParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("column",)
    column: str = Field("rating", description="Column holding the survey rating.")
    scale: int = Field(5, ge=2, le=11, description="Top of the rating scale (1..scale); ratings outside it are left out and counted in the data-quality note.")
    bad_to: int = Field(2, ge=1, description="Ratings at or below this count as dissatisfied.")

    @model_validator(mode="after")
    def _within_scale(self) -> DsatParams:
        if self.bad_to >= self.scale:
            raise ValueError(f"bad_to ({self.bad_to}) must be below the scale's top ({self.scale})")
        return self


@CALCULATORS.register("dsat")
class Dsat(Calculator):
    """Customer dissatisfaction: the share of responses rated in the bottom box(es)."""

    name = "dsat"
    Params = DsatParams
    unit = "percent"
    direction = "lower"
    additive = True
    estimate_kind = "proportion"
    n_noun = "response"
    formula = "responses rated 1 to {bad_to} / all responses rated 1 to {scale}"

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        from reportgen.data.aggregates import Aggregation, count_if

        assert isinstance(params, DsatParams)
        return Aggregation({
            "trials": lambda cols: count_if(_on_scale(cols, params.column, 1, params.scale)),
            "successes": lambda cols: count_if(_on_scale(cols, params.column, 1, params.bad_to)),
        })

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, DsatParams)
        return (outside(params.column, 1, params.scale, "rating"),)

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Proportion:
        return proportion_from(values)


class NpsParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("column",)
    column: str = Field("nps_score", description="Column holding the 0-10 likelihood-to-recommend answer.")
    promoter_from: int = Field(9, ge=1, le=10, description="Answers at or above this are promoters.")
    detractor_to: int = Field(6, ge=0, le=9, description="Answers at or below this are detractors.")

    @model_validator(mode="after")
    def _ordered(self) -> NpsParams:
        if self.detractor_to >= self.promoter_from:
            raise ValueError("detractor_to must be below promoter_from")
        return self


@CALCULATORS.register("nps")
class Nps(Calculator):
    """Net Promoter Score in points (-100..100): % promoters minus % detractors."""

    name = "nps"
    Params = NpsParams
    unit = "score"
    direction = "higher"
    estimate_kind = "net_score"
    n_noun = "response"
    formula = ("100 x (answers {promoter_from}-10 - answers 0-{detractor_to}) / all answers 0-10, "
               "in points")

    def scale_for(self, params: CalculatorParams) -> Scale:
        return Scale(-100, 100)

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        from reportgen.data.aggregates import Aggregation, count_if

        assert isinstance(params, NpsParams)
        return Aggregation({
            "total": lambda cols: count_if(_on_scale(cols, params.column, 0, 10)),
            "promoters": lambda cols: count_if(_on_scale(cols, params.column,
                                                         params.promoter_from, 10)),
            "detractors": lambda cols: count_if(_on_scale(cols, params.column, 0,
                                                          params.detractor_to)),
        })

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, NpsParams)
        return (outside(params.column, 0, 10, "answer"),)

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> NetScore:
        promoters = float(values.get("promoters") or 0)
        detractors = float(values.get("detractors") or 0)
        total = float(values.get("total") or 0)
        return NetScore(promoters, total - promoters - detractors, detractors)

    def details_from_aggregates(self, current: Mapping[str, Any], params: CalculatorParams,
                                history: Sequence[tuple[Period, Mapping[str, Any]]]
                                ) -> Mapping[str, Any]:
        est = self.from_aggregates(current, params)
        return {"promoters": int(est.promoters), "passives": int(est.passives),
                "detractors": int(est.detractors)}


class CesParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("column",)
    column: str = Field("effort_score", description="Column holding the effort answer.")
    scale: int = Field(7, ge=2, le=11, description="Top of the effort scale (1..scale); answers outside it are left out and counted in the data-quality note.")


@CALCULATORS.register("ces")
class Ces(Calculator):
    """Customer Effort Score: the mean effort answer (CES 2.0: 7 = 'it was easy')."""

    name = "ces"
    Params = CesParams
    unit = "rating"
    direction = "higher"
    estimate_kind = "mean"
    n_noun = "response"
    formula = "mean of effort answers on 1-{scale}"

    def scale_for(self, params: CalculatorParams) -> Scale:
        assert isinstance(params, CesParams)
        return Scale(1, params.scale, "easier")

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        import sqlalchemy as sa

        from reportgen.data.aggregates import mean_aggregation

        assert isinstance(params, CesParams)
        return mean_aggregation(lambda cols: sa.case(
            (_on_scale(cols, params.column, 1, params.scale), cols.num(params.column))))

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, CesParams)
        return (outside(params.column, 1, params.scale, "answer"),)

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Mean:
        return mean_from(values)


class ResponseRateParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("sent_column", "response_column")
    sent_column: str = Field("survey_sent", description="Flag (1/0) marking a ticket whose survey was sent.")
    response_column: str = Field("survey_responded", description="Column telling whether the survey was answered.")
    response_is: Literal["flag", "present"] = Field(
        "flag", description="'flag': the column is 1/0; 'present': any non-blank value "
                            "(a joined response id or rating) means answered.")


@CALCULATORS.register("survey_response_rate")
class SurveyResponseRate(Calculator):
    """Survey responses per survey sent, over tickets (one row per ticket)."""

    name = "survey_response_rate"
    Params = ResponseRateParams
    unit = "percent"
    direction = "higher"
    additive = True
    estimate_kind = "proportion"
    formula = "tickets whose survey was answered / tickets whose survey was sent ({sent_column} = 1)"

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        from reportgen.data.aggregates import Aggregation, count_if

        assert isinstance(params, ResponseRateParams)

        def sent(cols: Cols) -> Any:
            return cols.flag(params.sent_column) == 1

        def answered(cols: Cols) -> Any:
            if params.response_is == "flag":
                return cols.flag(params.response_column) == 1
            return cols[params.response_column].is_not(None)

        return Aggregation({
            "trials": lambda cols: count_if(sent(cols)),
            "successes": lambda cols: count_if(sent(cols) & answered(cols)),
        })

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Proportion:
        return proportion_from(values)

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, ResponseRateParams)
        sent_column = params.sent_column
        out = [not_a_flag(sent_column)]
        if params.response_is == "flag":
            out.append(only_where(not_a_flag(params.response_column),
                                  lambda cols: cols.flag(sent_column) == 1))
        return tuple(out)
