"""A KPI against its own history: is this period unusual, and will the target be reached?

Both calculators wrap a KPI (any calculator of rows assigned to a period: ``csat``,
``aht``, ``qa_score``...).  Their value, interval, change and target status are the KPI's;
``details`` adds the answer to one question, from the KPI's values over the history window:

* ``kpi_anomaly`` — the period's expected band from a seasonal baseline: an ordinary
  least-squares fit of the earlier periods' values on a level, one effect per season
  (month of the year for monthly reports) and, with two seasons of history, a linear trend;
  the band is the fit's prediction interval for the current period at ``1 -
  false_alarm_rate``.  Under the model (a fixed seasonal pattern, trend and independent
  normal noise) it is exact: Student t on the residual degrees of freedom, with the
  uncertainty of the fitted effects included, so an ordinary period falls outside it with
  probability ``false_alarm_rate``.  Fewer than ``min_periods`` earlier values: no band.
* ``target_projection`` — the value of the enclosing quarter (or year) as the mean of its
  periods' values: the periods already reported plus the rest forecast by a linear trend
  (or a level) fitted to the last ``fit_periods`` values, with a prediction interval for
  that mean (Student t; the forecast periods' own noise and the fit's uncertainty).  The
  reported periods are known, so only the periods to come err: under the model (a trend or
  a level with independent normal noise) the interval is exact.

``details["anomaly"]`` and ``details["projection"]`` hold the figures; the findings are
written by ``reportgen.insights.forecast``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from reportgen.errors import UnknownNameError
from reportgen.metrics.base import (
    CALCULATORS,
    Calculator,
    CalculatorParams,
    Exclusion,
    HistoryFrames,
    calculator,
)
from reportgen.period import Period

if TYPE_CHECKING:
    import pandas as pd

    from reportgen.data.aggregates import Aggregation
    from reportgen.metrics.estimates import Estimate
    from reportgen.report.model.metric_results import Direction, Scale, Unit

#: Periods per seasonal cycle, by report grain (a year of them).
SEASON: Mapping[str, int] = {"month": 12, "quarter": 4, "week": 52}
#: The wrappers themselves, which cannot wrap each other.
_WRAPPERS = ("kpi_anomaly", "target_projection")


class KpiParams(CalculatorParams):
    """The wrapped KPI: a calculator and its params."""

    kpi: str = Field(description="Calculator of the KPI (csat, aht, qa_score, pass_rate...).")
    kpi_params: dict[str, Any] = Field(default_factory=dict, description="That calculator's params.")

    @model_validator(mode="after")
    def _kpi_is_a_period_metric(self) -> KpiParams:
        try:
            inner = CALCULATORS.get(self.kpi)
        except UnknownNameError as exc:  # reported as a params problem, with its did-you-mean
            raise ValueError(str(exc)) from None
        if self.kpi in _WRAPPERS:
            raise ValueError(f"kpi '{self.kpi}' wraps a KPI itself; name the KPI's calculator")
        if inner.scope != "period":
            raise ValueError(f"kpi '{self.kpi}' is a stock, not a metric of each period's rows")
        inner.Params.model_validate(self.kpi_params)
        return self

    def inner(self) -> tuple[Calculator, CalculatorParams]:
        """The wrapped calculator and its validated params (validated once)."""
        return self._inner

    @cached_property
    def _inner(self) -> tuple[Calculator, CalculatorParams]:
        calc = calculator(self.kpi)
        return calc, calc.Params.model_validate(self.kpi_params)

    def columns(self) -> list[str]:
        _, params = self.inner()
        return [*super().columns(), *params.columns()]


class KpiWrapper(Calculator):
    """A calculator whose estimate is its KPI's; subclasses add ``details`` from the values."""

    Params: ClassVar[type[CalculatorParams]] = KpiParams
    #: the wrapped KPI's kind, which differs by definition: none declared here
    estimate_kind = ""

    def _kpi(self, params: CalculatorParams) -> tuple[Calculator, CalculatorParams]:
        assert isinstance(params, KpiParams)
        return params.inner()

    def for_source(self, params: CalculatorParams, declared: Collection[str]) -> CalculatorParams:
        # The KPI gets the defaults it gets anywhere (audits clustered by a declared agent
        # column), so the wrapped value is the same number as the KPI's own tile.
        calc, inner = self._kpi(params)
        settled = calc.for_source(inner, declared)
        if settled is inner:
            return params
        return type(params).model_validate(
            {**params.model_dump(), "kpi_params": settled.model_dump(exclude_defaults=True)})

    def unit_for(self, params: CalculatorParams) -> Unit:
        calc, inner = self._kpi(params)
        return calc.unit_for(inner)

    def direction_for(self, params: CalculatorParams) -> Direction:
        calc, inner = self._kpi(params)
        return calc.direction_for(inner)

    def scale_for(self, params: CalculatorParams) -> Scale | None:
        calc, inner = self._kpi(params)
        return calc.scale_for(inner)

    def describe(self, params: CalculatorParams) -> str:
        calc, inner = self._kpi(params)
        return f"{calc.describe(inner)}; {self.formula.format(**params.model_dump())}"

    def aggregation(self, params: CalculatorParams) -> Aggregation | None:
        calc, inner = self._kpi(params)
        return calc.aggregation(inner)

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        calc, inner = self._kpi(params)
        return calc.exclusions(inner)

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Estimate:
        calc, inner = self._kpi(params)
        return calc.from_aggregates(values, inner)

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Estimate:
        calc, inner = self._kpi(params)
        return calc.estimate(frame, inner)

    def estimate_for(self, frame: pd.DataFrame, params: CalculatorParams,
                     period: Period) -> Estimate:
        calc, inner = self._kpi(params)
        return calc.estimate_for(frame, inner, period)

    def details_from_aggregates(self, current: Mapping[str, Any], params: CalculatorParams,
                                history: Sequence[tuple[Period, Mapping[str, Any]]]
                                ) -> Mapping[str, Any]:
        # The engine's history ends with the report period.
        calc, inner = self._kpi(params)
        series = [(p, _value(calc.from_aggregates(values, inner))) for p, values in history]
        return self.from_series(series, params)

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        calc, inner = self._kpi(params)
        periods = [p for p in history.periods if p.key in history.frames]
        if history.current is not None:
            periods = [p for p in periods if p.start <= history.current.start]
        series = [(p, _value(calc.estimate_for(history.frame(p), inner, p))) for p in periods]
        return self.from_series(series, params)

    def from_series(self, series: Sequence[tuple[Period, float | None]],
                    params: CalculatorParams) -> Mapping[str, Any]:
        """The details from the KPI's value in each period, oldest first, ending with the
        report period (None where a period has no value)."""
        raise NotImplementedError


def _value(estimate: Estimate) -> float | None:
    value = estimate.value
    return None if estimate.n == 0 or value is None else float(value)


def _seasonal_design(positions: Sequence[int], season: int, trend: bool) -> Any:
    """The regression's columns at ``positions`` (0 = the oldest period): a constant, a
    dummy per season but the first, and the position when ``trend``."""
    import pandas as pd
    from statsmodels.tsa.deterministic import DeterministicProcess

    index = pd.RangeIndex(max(positions) + 1)
    process = DeterministicProcess(index, constant=True, order=1 if trend else 0,
                                   seasonal=season > 1, period=season if season > 1 else None)
    return process.in_sample().to_numpy(dtype=float)[list(positions)]


def seasonal_band(baseline: Sequence[float | None], current: float | None, *, season: int,
                  false_alarm_rate: float, trend: Literal["auto", "none", "linear"] = "auto",
                  min_periods: int = 13) -> dict[str, Any]:
    """The expected band of the period after ``baseline`` (its values, oldest first, None
    where missing) and whether ``current`` is outside it.

    Returns ``band`` False with ``reason`` when there is no band (too little history, a
    season never seen, no residual variation).
    """
    import numpy as np
    import statsmodels.api as sm
    from scipy import stats as sps

    known = [(i, float(v)) for i, v in enumerate(baseline) if v is not None and np.isfinite(v)]
    out: dict[str, Any] = {"periods": len(known), "min_periods": min_periods, "season": season,
                           "false_alarm_rate": false_alarm_rate, "band": False}
    if len(known) < min_periods:
        return {**out, "reason": "history"}
    here = len(baseline)
    if season > 1 and not any((here - i) % season == 0 for i, _ in known):
        return {**out, "reason": "season"}
    linear = trend == "linear" or (trend == "auto" and len(known) >= 2 * season)
    design = _seasonal_design([i for i, _ in known] + [here], season, linear)
    fit = sm.OLS(np.array([v for _, v in known]), design[:-1]).fit()
    if fit.df_resid < 1 or not fit.scale > 0:
        return {**out, "reason": "variation"}
    prediction = fit.get_prediction(design[-1:])
    expected, spread = float(prediction.predicted_mean[0]), float(prediction.se_obs[0])
    quantile = float(sps.t.ppf(1 - false_alarm_rate / 2, fit.df_resid))
    out.update(band=True, trend=linear, df=float(fit.df_resid), expected=expected,
               low=expected - quantile * spread, high=expected + quantile * spread,
               se=spread, value=None if current is None else float(current), outside=None,
               p_value=None)
    if current is not None:
        score = (current - expected) / spread
        out.update(p_value=float(2 * sps.t.sf(abs(score), fit.df_resid)),
                   outside=bool(abs(score) > quantile))
    return out


# --- anomalies --------------------------------------------------------------------------


class AnomalyParams(KpiParams):
    false_alarm_rate: float = Field(0.01, gt=0, le=0.2, description="Chance that an ordinary period falls outside the band (both sides together): the band is the baseline's prediction interval at 1 - this.")
    season: int | None = Field(None, ge=1, le=60, description="Periods per seasonal cycle; default a year (12 months, 4 quarters, 52 weeks); 1 = no season.")
    trend: Literal["auto", "none", "linear"] = Field("auto", description="Linear trend in the baseline: 'auto' fits one when the history holds two full seasons.")
    min_periods: int = Field(13, ge=13, le=120, description="Earlier periods with a value needed for a band (at least 13; set period.history above it).")


@CALCULATORS.register("kpi_anomaly")
class KpiAnomaly(KpiWrapper):
    """A KPI with the expected band of its period from a seasonal baseline."""

    name = "kpi_anomaly"
    Params = AnomalyParams
    formula = ("expected band = prediction interval at 1 - {false_alarm_rate} of an OLS fit "
               "of the earlier periods' values on a level, seasonal effects and (with two "
               "seasons of history) a linear trend; needs {min_periods} earlier values")

    def from_series(self, series: Sequence[tuple[Period, float | None]],
                    params: CalculatorParams) -> Mapping[str, Any]:
        assert isinstance(params, AnomalyParams)
        if not series:
            return {}
        period, current = series[-1]
        season = params.season or SEASON[period.grain]
        band = seasonal_band([v for _, v in series[:-1]], current, season=season,
                             false_alarm_rate=params.false_alarm_rate, trend=params.trend,
                             min_periods=params.min_periods)
        return {"anomaly": {**band, "period": period.key, "grain": period.grain}}


# --- projection of the quarter (or year) ------------------------------------------------

_GRAIN_ORDER: Mapping[str, int] = {"week": 0, "month": 1, "quarter": 2, "year": 3}


class ProjectionParams(KpiParams):
    horizon: Literal["month", "quarter", "year"] = Field("quarter", description="The period whose value is projected: the one containing the report period (coarser than the report's grain).")
    model: Literal["trend", "level"] = Field("trend", description="Forecast the rest of the horizon from a linear trend or a constant level of the recent values.")
    fit_periods: int = Field(12, ge=3, le=120, description="Recent periods (ending with the report period) the model is fitted to.")
    min_periods: int = Field(6, ge=3, le=120, description="Values needed in that window for a projection.")
    confidence: float = Field(0.9, gt=0.5, lt=1, description="Level of the projection's prediction interval; its bounds decide on track / at risk / unlikely.")


def horizon_bounds(period: Period, horizon: str) -> tuple[date, date]:
    """First day and the day after the last of the ``horizon`` containing ``period``."""
    if horizon == "year":
        return date(period.start.year, 1, 1), date(period.start.year + 1, 1, 1)
    enclosing = Period.containing(period.start, horizon, period.timezone)  # type: ignore[arg-type]
    return enclosing.start, enclosing.end


def _parts(start: date, end: date, period: Period) -> list[Period]:
    """The periods of ``period``'s grain that start from ``start`` and before ``end``."""
    part = Period.containing(start, period.grain, period.timezone)
    if part.start < start:
        part = part.next()
    out = []
    while part.start < end:
        out.append(part)
        part = part.next()
    return out


def forecast_means(positions: Any, values: Any, ahead: Any, *,
                   model: Literal["trend", "level"] = "trend") -> dict[str, Any]:
    """The mean of the values at positions ``ahead`` of many series (rows of ``values``),
    each fitted (OLS, a trend or a level) at ``positions``: arrays ``mean`` and ``se`` (the
    fit's error at the mean future position plus the future values' own noise, scale /
    len(ahead)) and the residual ``df``.  (future mean - mean) / se is Student t on df for
    series from the model with independent normal noise, so an interval from it is exact.
    """
    import numpy as np

    x = np.asarray(positions, dtype=float)
    y = np.atleast_2d(np.asarray(values, dtype=float))
    design = np.column_stack([np.ones(len(x)), x]) if model == "trend" else np.ones((len(x), 1))
    future = np.asarray(ahead, dtype=float)
    centre = np.array([1.0, future.mean()]) if model == "trend" else np.ones(1)
    df = len(x) - design.shape[1]
    coefficients, *_ = np.linalg.lstsq(design, y.T, rcond=None)
    scale = ((y.T - design @ coefficients) ** 2).sum(axis=0) / max(df, 1)
    leverage = float(centre @ np.linalg.pinv(design.T @ design) @ centre)
    return {"mean": centre @ coefficients, "se": np.sqrt(scale * (leverage + 1 / len(future))),
            "df": df}


def project_mean(fit_values: Sequence[float | None], elapsed: Sequence[float], remaining: int,
                 *, model: Literal["trend", "level"] = "trend",
                 confidence: float = 0.9) -> dict[str, Any]:
    """Projected mean of ``elapsed`` values and the next ``remaining`` periods' values, with
    its prediction interval at ``confidence``.

    ``fit_values`` are the recent values the model is fitted to, oldest first, ending with
    the latest period (None where missing); the periods to come follow it.
    """
    import numpy as np

    known = [(i, float(v)) for i, v in enumerate(fit_values) if v is not None]
    if remaining == 0:
        mean = float(np.mean(elapsed))
        return {"closed": True, "projected": mean, "low": mean, "high": mean, "se": 0.0,
                "df": None, "fitted": len(known)}
    if len(known) <= (2 if model == "trend" else 1):  # no residual degree of freedom
        return {"closed": False, "projected": None, "reason": "history", "fitted": len(known)}
    found = project_means([i for i, _ in known], [[v for _, v in known]], [list(elapsed)],
                          np.arange(len(fit_values), len(fit_values) + remaining),
                          model=model, confidence=confidence)
    return {"closed": False, **{k: float(found[k][0]) for k in ("projected", "low", "high", "se")},
            "df": float(found["df"]), "fitted": len(known)}


def project_means(positions: Any, values: Any, elapsed: Any, ahead: Any, *,
                  model: Literal["trend", "level"] = "trend",
                  confidence: float = 0.9) -> dict[str, Any]:
    """``project_mean`` for many series at once: each row of ``values`` fitted at
    ``positions``, the horizon's mean over its row of ``elapsed`` (known) values and its
    values at positions ``ahead``.  Arrays ``projected``, ``low``, ``high`` and ``se``."""
    import numpy as np
    from scipy import stats as sps

    known = np.atleast_2d(np.asarray(elapsed, dtype=float))
    remaining = len(ahead)
    total = known.shape[1] + remaining
    found = forecast_means(positions, values, ahead, model=model)
    projected = (known.sum(axis=1) + remaining * found["mean"]) / total
    se = remaining / total * found["se"]
    half = float(sps.t.ppf((1 + confidence) / 2, found["df"])) * se
    return {"projected": projected, "low": projected - half, "high": projected + half,
            "se": se, "df": found["df"]}


@CALCULATORS.register("target_projection")
class TargetProjection(KpiWrapper):
    """A KPI with the projected value of the quarter (or year) it is in."""

    name = "target_projection"
    Params = ProjectionParams
    formula = ("projected {horizon} value = mean of its periods' values, the periods to come "
               "forecast by a {model} fitted (OLS) to the last {fit_periods} values; "
               "{confidence} prediction interval (Student t)")

    def from_series(self, series: Sequence[tuple[Period, float | None]],
                    params: CalculatorParams) -> Mapping[str, Any]:
        assert isinstance(params, ProjectionParams)
        if not series:
            return {}
        period = series[-1][0]
        out: dict[str, Any] = {"horizon": params.horizon, "model": params.model,
                               "confidence": params.confidence, "period": period.key,
                               "projected": None}
        if _GRAIN_ORDER[params.horizon] <= _GRAIN_ORDER[period.grain]:
            return {"projection": {**out, "reason": "horizon", "grain": period.grain}}
        start, end = horizon_bounds(period, params.horizon)
        parts = _parts(start, end, period)
        values = {p.key: v for p, v in series}
        elapsed = [p for p in parts if p.start <= period.start]
        out.update(horizon_start=start.isoformat(), periods=len(parts),
                   elapsed=[{"period": p.key, "value": values.get(p.key)} for p in elapsed],
                   remaining=len(parts) - len(elapsed))
        so_far = [v for p in elapsed if (v := values.get(p.key)) is not None]
        missing = [p.key for p in elapsed if values.get(p.key) is None]
        if missing:
            return {"projection": {**out, "reason": "elapsed", "missing": missing}}
        window = [v for _, v in series[-params.fit_periods:]]
        fitted = sum(v is not None for v in window)
        if out["remaining"] and fitted < params.min_periods:
            return {"projection": {**out, "reason": "history", "fitted": fitted,
                                   "min_periods": params.min_periods}}
        found = project_mean(window, so_far, out["remaining"],
                             model=params.model, confidence=params.confidence)
        return {"projection": {**out, **found, "min_periods": params.min_periods}}
