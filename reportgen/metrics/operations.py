"""Operational calculators over tickets: volume, response and resolution times, handle time, rates.

Which period a ticket falls in is decided by the source's ``time_column``: a source on
``created_at`` reports tickets by the month they arrived, one on ``solved_at`` by the month
they were solved.  Resolution metrics usually want the latter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from reportgen.metrics.base import (
    CALCULATORS,
    Calculator,
    CalculatorParams,
    Exclusion,
    among,
    negative,
    not_a_flag,
)
from reportgen.metrics.estimates import Count, Mean, Proportion, mean_from, proportion_from
from reportgen.metrics.quantile_and_net_score import Quantile
from reportgen.report.model.metric_results import Unit
from reportgen.text.number import plain

if TYPE_CHECKING:
    import pandas as pd

    from reportgen.data.aggregates import Aggregation, Cols
    from reportgen.data.quantiles import QuantileMeasure

SOLVED = ["solved", "closed"]
TimeUnit = Literal["seconds", "minutes", "hours"]


@CALCULATORS.register("volume")
class Volume(Calculator):
    """The number of rows (tickets, responses, reviews) in the period."""

    name = "volume"
    unit = "count"
    direction = "higher"
    additive = True
    estimate_kind = "count"
    formula = "count of rows in the period"

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        import sqlalchemy as sa

        from reportgen.data.aggregates import Aggregation

        return Aggregation({"rows": lambda cols: sa.func.count()})

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Count:
        return Count(float(values.get("rows") or 0))


# --- durations -----------------------------------------------------------------------------
class DurationParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("column",)
    column: str = Field(description="Column holding the duration of each ticket.")
    quantile: float = Field(0.5, gt=0, lt=1, description="Which quantile: 0.5 = median, 0.9 = P90.")
    unit: TimeUnit = Field(description="Unit of the column's values.")


def _quantile_label(q: float) -> str:
    return "median" if q == 0.5 else f"P{plain(q * 100)}"


class _Duration(Calculator):
    """A quantile of a duration column; tickets without a value (no reply yet) are left out."""

    Params = DurationParams
    direction = "lower"
    estimate_kind = "quantile"

    def unit_for(self, params: CalculatorParams) -> Unit:
        assert isinstance(params, DurationParams)
        return params.unit

    def describe(self, params: CalculatorParams) -> str:
        assert isinstance(params, DurationParams)
        return (f"{_quantile_label(params.quantile)} of {params.column} ({params.unit}) over "
                f"tickets that have one")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Quantile:
        from reportgen.metrics.columns import numeric

        assert isinstance(params, DurationParams)
        values = numeric(frame, params.column).dropna()
        return Quantile(values.loc[values >= 0].to_numpy(dtype=float), q=params.quantile)

    def quantile(self, params: CalculatorParams) -> QuantileMeasure:
        from reportgen.data.quantiles import QuantileMeasure, non_negative

        assert isinstance(params, DurationParams)
        return QuantileMeasure(non_negative(params.column), params.quantile)

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, DurationParams)
        return (negative(params.column),)


class FirstResponseParams(DurationParams):
    column: str = Field("first_response_minutes", description="Column holding minutes to the first agent reply.")
    unit: TimeUnit = Field("minutes", description="Unit of the column's values.")


class ResolutionParams(DurationParams):
    column: str = Field("resolution_hours", description="Column holding hours from creation to solve.")
    unit: TimeUnit = Field("hours", description="Unit of the column's values.")


@CALCULATORS.register("first_response_time")
class FirstResponseTime(_Duration):
    """Time to first agent reply: median by default, any quantile (P90) selectable."""

    name = "first_response_time"
    Params = FirstResponseParams
    formula = "quantile {quantile} of {column} over tickets with a first reply"


@CALCULATORS.register("resolution_time")
class ResolutionTime(_Duration):
    """Time from creation to solve: median by default, any quantile (P90) selectable."""

    name = "resolution_time"
    Params = ResolutionParams
    formula = "quantile {quantile} of {column} over solved tickets"


class HandleParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("column",)
    column: str = Field("handle_minutes", description="Column holding agent handling time per ticket.")
    unit: TimeUnit = Field("minutes", description="Unit of the column's values.")


@CALCULATORS.register("aht")
class AverageHandleTime(Calculator):
    """Average handle time: the mean agent time spent per ticket."""

    name = "aht"
    Params = HandleParams
    direction = "lower"
    estimate_kind = "mean"
    formula = "mean of {column} ({unit}) over tickets that have one"

    def unit_for(self, params: CalculatorParams) -> Unit:
        assert isinstance(params, HandleParams)
        return params.unit

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        import sqlalchemy as sa

        from reportgen.data.aggregates import mean_aggregation

        assert isinstance(params, HandleParams)

        def value(cols: Cols) -> Any:
            minutes = cols.num(params.column)
            return sa.case((minutes >= 0, minutes))

        return mean_aggregation(value)

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, HandleParams)
        return (negative(params.column),)

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Mean:
        return mean_from(values)


# --- rates ---------------------------------------------------------------------------------
class FlagRateParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("column", "status_column")
    column: str = Field(description="Flag column (1/0, true/false, yes/no); blanks are left out.")
    status_column: str | None = Field(None, description="Column holding the ticket status; with 'among', restricts the denominator.")
    among: list[str] = Field(default_factory=lambda: list(SOLVED), description="Statuses counted when status_column is set.")


class _FlagRate(Calculator):
    """The share of rows whose flag is set, among rows with a known flag (and status)."""

    Params = FlagRateParams
    unit = "percent"
    additive = True
    estimate_kind = "proportion"

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        from reportgen.data.aggregates import Aggregation, count_if

        assert isinstance(params, FlagRateParams)

        def counted(cols: Cols) -> Any:
            known = cols.flag(params.column).is_not(None)
            if params.status_column is None:
                return known
            return known & cols.lower_in(params.status_column, params.among)

        return Aggregation({
            "trials": lambda cols: count_if(counted(cols)),
            "successes": lambda cols: count_if(counted(cols) & (cols.flag(params.column) == 1)),
        })

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Proportion:
        return proportion_from(values)

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, FlagRateParams)
        return (among(not_a_flag(params.column), params.status_column, params.among),)


class ReopenParams(FlagRateParams):
    column: str = Field("reopened", description="Flag: the ticket was reopened after being solved.")
    status_column: str | None = Field("status", description="Column holding the ticket status; only solved tickets count.")


class EscalationParams(FlagRateParams):
    column: str = Field("escalated", description="Flag: the ticket was escalated.")


class SlaParams(FlagRateParams):
    column: str = Field("sla_met", description="Flag: the first reply met its SLA target; blank = no reply yet.")


@CALCULATORS.register("reopen_rate")
class ReopenRate(_FlagRate):
    """The share of solved tickets that were reopened."""

    name = "reopen_rate"
    Params = ReopenParams
    direction = "lower"
    formula = "solved tickets with {column} = 1 / solved tickets ({status_column} in {among})"


@CALCULATORS.register("escalation_rate")
class EscalationRate(_FlagRate):
    """The share of tickets escalated."""

    name = "escalation_rate"
    Params = EscalationParams
    direction = "lower"
    formula = "tickets with {column} = 1 / tickets with {column} known"


@CALCULATORS.register("sla_attainment")
class SlaAttainment(_FlagRate):
    """The share of tickets whose first reply met the SLA target."""

    name = "sla_attainment"
    Params = SlaParams
    direction = "higher"
    formula = "tickets with {column} = 1 / tickets with {column} known (replied)"


class FcrParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("replies_column", "status_column", "reopened_column")
    replies_column: str = Field("agent_replies", description="Column counting agent replies on the ticket.")
    status_column: str = Field("status", description="Column holding the ticket status.")
    among: list[str] = Field(default_factory=lambda: list(SOLVED), description="Statuses that count as solved.")
    reopened_column: str | None = Field(None, description="Optional reopened flag: a reopened ticket is not resolved on first contact.")


@CALCULATORS.register("fcr")
class FirstContactResolution(Calculator):
    """First contact resolution: the share of solved tickets solved with one agent reply."""

    name = "fcr"
    Params = FcrParams
    unit = "percent"
    direction = "higher"
    additive = True
    estimate_kind = "proportion"
    formula = ("solved tickets with {replies_column} = 1 (and not reopened, when "
               "{reopened_column} is set) / solved tickets ({status_column} in {among})")

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        import sqlalchemy as sa

        from reportgen.data.aggregates import Aggregation, count_if

        assert isinstance(params, FcrParams)

        def solved(cols: Cols) -> Any:
            return cols.lower_in(params.status_column, params.among) & \
                cols.num(params.replies_column).is_not(None)

        def one_touch(cols: Cols) -> Any:
            once = cols.num(params.replies_column) == 1
            if params.reopened_column is None:
                return once
            return once & (sa.func.coalesce(cols.flag(params.reopened_column), 0) != 1)

        return Aggregation({
            "trials": lambda cols: count_if(solved(cols)),
            "successes": lambda cols: count_if(solved(cols) & one_touch(cols)),
        })

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Proportion:
        return proportion_from(values)

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, FcrParams)
        if params.reopened_column is None:
            return ()
        return (among(not_a_flag(params.reopened_column), params.status_column, params.among),)
