"""Statistical process control: a p-chart of any rate by week or day over the history window.

The value is the wrapped rate for the period; ``details["p_chart"]`` holds the chart: the
centre line (the pooled rate of every subgroup in the window) and, per subgroup, its rate,
size and 3-sigma limits, which widen for small subgroups.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from reportgen._lazy import lazy
from reportgen.errors import UnknownNameError
from reportgen.metrics.base import (
    CALCULATORS,
    Calculator,
    CalculatorParams,
    HistoryFrames,
    calculator,
)
from reportgen.metrics.columns import timestamps
from reportgen.metrics.estimates import Estimate, Proportion
from reportgen.period import Period
from reportgen.report.model.metric_results import Direction, Scale, Unit
from reportgen.text.dates import day as day_text
from reportgen.text.dates import week_axis

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from reportgen.stats import control_limits
else:
    np = lazy("numpy")
    pd = lazy("pandas")
    control_limits = lazy("reportgen.stats.control_limits")


class PChartParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("time_column",)
    rate: str = Field(description="Calculator of the rate to chart (any proportion: csat, reopen_rate, pass_rate...).")
    rate_params: dict[str, Any] = Field(default_factory=dict, description="That calculator's params.")
    time_column: str = Field(description="Column holding each row's time (usually the source's time_column).")
    subgroup: Literal["week", "day"] = Field("week", description="Subgroup each point covers (ISO weeks start on Monday).")
    sigmas: float = Field(3.0, gt=0, description="Width of the control limits in standard errors.")

    @model_validator(mode="after")
    def _rate_is_a_proportion(self) -> PChartParams:
        try:
            inner = CALCULATORS.get(self.rate)
        except UnknownNameError as exc:  # reported as a params problem, with its did-you-mean
            raise ValueError(str(exc)) from None
        if inner.estimate_kind != "proportion":
            rates = ", ".join(n for n, c in CALCULATORS.items() if c.estimate_kind == "proportion")
            raise ValueError(f"rate '{self.rate}' is a {inner.estimate_kind or 'non-rate'} metric; "
                             f"a p-chart needs a rate: one of {rates}")
        if inner.scope != "period":
            raise ValueError(f"rate '{self.rate}' is a stock, not a rate of events")
        inner.Params.model_validate(self.rate_params)
        return self

    def inner(self) -> tuple[Calculator, CalculatorParams]:
        """The wrapped calculator and its validated params (validated once)."""
        return self._inner

    @cached_property
    def _inner(self) -> tuple[Calculator, CalculatorParams]:
        calc = calculator(self.rate)
        return calc, calc.Params.model_validate(self.rate_params)

    def columns(self) -> list[str]:
        _, params = self.inner()
        return [*super().columns(), *params.columns()]


def _subgroups(frame: pd.DataFrame, params: PChartParams, period: Period) -> pd.Series:
    """Each row's subgroup start (local date), aligned with ``frame``."""
    local = timestamps(frame, params.time_column, period).dt.tz_localize(None)
    day = local.dt.normalize()
    if params.subgroup == "day":
        return day
    return day - pd.to_timedelta(day.dt.day_of_week, unit="D")


def _label(start: pd.Timestamp, subgroup: str) -> str:
    if subgroup == "day":
        return day_text(start.date())
    return week_axis(start.date())


@CALCULATORS.register("p_chart")
class PChart(Calculator):
    """A rate with its p-chart: centre line, varying 3-sigma limits, out-of-control points."""

    name = "p_chart"
    Params = PChartParams
    estimate_kind = "proportion"
    formula = ("p-chart of {rate} by {subgroup}: centre = sum of numerators / sum of "
               "denominators over the window; limits = centre +- {sigmas} sqrt(centre (1 - "
               "centre) / n_i), lower limit floored at 0")

    def unit_for(self, params: CalculatorParams) -> Unit:
        assert isinstance(params, PChartParams)
        calc, inner = params.inner()
        return calc.unit_for(inner)

    def direction_for(self, params: CalculatorParams) -> Direction:
        assert isinstance(params, PChartParams)
        calc, inner = params.inner()
        return calc.direction_for(inner)

    def scale_for(self, params: CalculatorParams) -> Scale | None:
        assert isinstance(params, PChartParams)
        calc, inner = params.inner()
        return calc.scale_for(inner)

    def describe(self, params: CalculatorParams) -> str:
        assert isinstance(params, PChartParams)
        calc, inner = params.inner()
        return f"{calc.describe(inner)}; {self.formula.format(**params.model_dump())}"

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Estimate:
        assert isinstance(params, PChartParams)
        calc, inner = params.inner()
        return calc.estimate(frame, inner)

    def estimate_for(self, frame: pd.DataFrame, params: CalculatorParams,
                     period: Period) -> Estimate:
        assert isinstance(params, PChartParams)
        calc, inner = params.inner()
        return calc.estimate_for(frame, inner, period)

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, PChartParams)
        period = history.current or (history.periods[-1] if history.periods else None)
        rows = history.combined()
        if period is None or rows.empty:
            return {"p_chart": {"center": None, "points": []}}
        calc, inner = params.inner()
        starts = _subgroups(rows, params, period)
        labels, successes, trials = [], [], []
        aggregation = calc.aggregation(inner)
        if aggregation is not None:  # every subgroup in one query
            from reportgen.data.frames import aggregate_by

            by_start = aggregate_by(rows, starts, aggregation)
            estimates = [(start, calc.from_aggregates(by_start[start], inner))
                         for start in sorted(by_start)]
        else:
            estimates = [(start, calc.estimate(part, inner))
                         for start, part in rows.groupby(starts, sort=True)]
        for start, est in estimates:
            assert isinstance(est, Proportion)
            if est.trials:
                labels.append(_label(pd.Timestamp(start), params.subgroup))
                successes.append(est.successes)
                trials.append(est.trials)
        if not trials:
            return {"p_chart": {"center": None, "points": []}}
        center, ucl, lcl = control_limits.p_chart_limits(np.array(successes), np.array(trials),
                                                params.sigmas)
        points = []
        for i, label in enumerate(labels):
            p = successes[i] / trials[i]
            points.append({"label": label, "p": float(p), "n": int(trials[i]),
                           "ucl": float(ucl[i]), "lcl": float(lcl[i]),
                           "out_of_control": bool(p > ucl[i] or p < lcl[i])})
        return {"p_chart": {"center": center, "points": points},
                "subgroup": params.subgroup, "sigmas": params.sigmas}
