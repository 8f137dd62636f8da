"""Voice-of-customer calculators: CSAT, DSAT, NPS, CES and the survey response rate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import pandas as pd
from pydantic import Field, model_validator

from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, HistoryFrames
from reportgen.metrics.columns import flags, numeric
from reportgen.metrics.estimates import Mean, NetScore, Proportion


class RatingParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("column",)
    column: str = Field("rating", description="Column holding the survey rating.")
    scale: int = Field(5, ge=2, le=11, description="Top of the rating scale (1..scale); ratings outside it are ignored.")
    good_from: int = Field(4, ge=1, description="Ratings at or above this count as satisfied.")

    @model_validator(mode="after")
    def _within_scale(self) -> RatingParams:
        if self.good_from > self.scale:
            raise ValueError(f"good_from ({self.good_from}) is above the scale's top ({self.scale})")
        return self


def ratings(frame: pd.DataFrame, column: str, low: int, high: int) -> pd.Series:
    """The ratings on the scale ``low..high``; blanks and off-scale values are left out."""
    values = numeric(frame, column).dropna()
    return values.loc[(values >= low) & (values <= high)]


def _distribution(params: RatingParams, history: HistoryFrames) -> list[dict[str, Any]]:
    levels = list(range(1, params.scale + 1))
    out = []
    for period in history.periods:
        counts = ratings(history.frame(period), params.column, 1, params.scale).value_counts()
        out.append({
            "period": period.key,
            "label": period.short_label,
            "counts": {str(level): int(counts.get(level, 0)) for level in levels},
        })
    return out


@CALCULATORS.register("csat")
class Csat(Calculator):
    """Customer satisfaction: the share of responses rated in the top box(es)."""

    name = "csat"
    Params = RatingParams
    unit = "percent"
    direction = "higher"
    additive = True
    estimate_kind = "proportion"
    formula = "responses rated {good_from} to {scale} / all responses rated 1 to {scale}"

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, RatingParams)
        values = ratings(frame, params.column, 1, params.scale)
        return Proportion(float((values >= params.good_from).sum()), float(len(values)))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, RatingParams)
        return {"distribution": _distribution(params, history)}


class DsatParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("column",)
    column: str = Field("rating", description="Column holding the survey rating.")
    scale: int = Field(5, ge=2, le=11, description="Top of the rating scale (1..scale); ratings outside it are ignored.")
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
    formula = "responses rated 1 to {bad_to} / all responses rated 1 to {scale}"

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, DsatParams)
        values = ratings(frame, params.column, 1, params.scale)
        return Proportion(float((values <= params.bad_to).sum()), float(len(values)))


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
    formula = ("100 x (answers {promoter_from}-10 - answers 0-{detractor_to}) / all answers 0-10, "
               "in points")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> NetScore:
        assert isinstance(params, NpsParams)
        values = ratings(frame, params.column, 0, 10)
        promoters = float((values >= params.promoter_from).sum())
        detractors = float((values <= params.detractor_to).sum())
        return NetScore(promoters, float(len(values)) - promoters - detractors, detractors)

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        est = self.estimate(frame, params)
        return {"promoters": int(est.promoters), "passives": int(est.passives),
                "detractors": int(est.detractors)}


class CesParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("column",)
    column: str = Field("effort_score", description="Column holding the effort answer.")
    scale: int = Field(7, ge=2, le=11, description="Top of the effort scale (1..scale); answers outside it are ignored.")


@CALCULATORS.register("ces")
class Ces(Calculator):
    """Customer Effort Score: the mean effort answer (CES 2.0: 7 = 'it was easy')."""

    name = "ces"
    Params = CesParams
    unit = "score"
    direction = "higher"
    estimate_kind = "mean"
    formula = "mean of effort answers on 1-{scale}"

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Mean:
        assert isinstance(params, CesParams)
        return Mean(ratings(frame, params.column, 1, params.scale).to_numpy(dtype=float))


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

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, ResponseRateParams)
        sent = frame.loc[flags(frame, params.sent_column).fillna(False).to_numpy(bool)]
        if params.response_is == "flag":
            answered = flags(sent, params.response_column).fillna(False)
        else:
            answered = sent[params.response_column].notna()
        return Proportion(float(answered.sum()), float(len(sent)))
