"""Rubric validity: does the QA score, and each rubric item, predict what customers live?

``rubric_validity`` reads QA ratings in long format (one row per review x rubric item, as
``qa_score``) with the reviewed ticket's outcomes joined onto every row (CSAT, re-contact
within 7 days, appeal overturned...).  Per review it takes the QA score (the ``qa_score``
rule), each item's score (0-100 on the item's scale) and the outcomes, then regresses each
outcome on the score, and on each item alone, with standard errors clustered by agent
(an agent's tickets resemble each other):

* a continuous outcome: OLS, the effect is the outcome's change per ``per`` score points,
  t reference on G - 1 degrees of freedom (statsmodels);
* a binary outcome: Logit, the effect is the average marginal effect on the probability
  per ``per`` score points (statsmodels' ``get_margeff``, delta method, normal reference).

An item *predicts* an outcome when its two-sided p-value, Holm-adjusted across the items
tested on that outcome, is below ``alpha``.  It *predicts nothing* on an outcome when an
equivalence test (two one-sided tests against -negligible and +negligible, the larger of the
two p-values, Holm-adjusted across items) is below ``alpha``: its effect is shown to lie
within the outcome's negligible band.  An item that predicts nothing on every outcome is a
candidate to retire (an intersection-union test: no further adjustment across outcomes).
An item whose interval is wide is neither: the data cannot tell.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reportgen._lazy import lazy
from reportgen.metrics.base import CALCULATORS, CalculatorParams, HistoryFrames
from reportgen.metrics.columns import flags, numeric
from reportgen.metrics.estimates import Statistic
from reportgen.metrics.qa_programme import review_scores
from reportgen.metrics.scorecard import ScorecardCalculator, ScorecardParams

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from reportgen.report.model.metric_results import Direction, Unit
    from reportgen.stats import significance
else:
    np = lazy("numpy")
    pd = lazy("pandas")
    significance = lazy("reportgen.stats.significance")


class Outcome(BaseModel):
    """One customer outcome of a ticket the QA score should predict."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    column: str = Field(description="Column holding the outcome of the reviewed ticket.")
    kind: Literal["binary", "continuous"] = Field(description="binary: a 1/0 flag (Logit); continuous: a number such as a 1-5 rating (OLS).")
    better: Literal["higher", "lower"] = Field(description="Which way of the outcome is good for the customer.")
    negligible: float = Field(gt=0, description="Effects per `per` score points within +/- this are negligible (outcome units; a probability for binary outcomes: 0.01 = 1 point).")
    label: str | None = Field(None, description="The outcome's name in sentences (default: the column).")

    @property
    def name(self) -> str:
        return self.label or self.column


def _default_outcomes() -> list[Outcome]:
    return [Outcome(column="csat", kind="continuous", better="higher", negligible=0.05,
                    label="CSAT"),
            Outcome(column="recontacted_7d", kind="binary", better="lower", negligible=0.01,
                    label="re-contact within 7 days")]


class RubricParams(ScorecardParams):
    column_fields: ClassVar[tuple[str, ...]] = (
        *ScorecardParams.column_fields, "item_column", "agent_column")
    item_column: str = Field("category", description="Column naming the rubric item rated.")
    agent_column: str = Field("agent_id", description="Column naming the reviewed agent; standard errors are clustered by it.")
    outcomes: list[Outcome] = Field(default_factory=_default_outcomes, min_length=1, description="The outcomes to predict; the first is the metric's value.")
    per: float = Field(10.0, gt=0, description="Effects are given per this many score points (0-100 scale).")
    min_reviews: int = Field(30, ge=3, description="An item or outcome with fewer reviews is not tested.")
    alpha: float = Field(0.05, gt=0, lt=1, description="Family-wise error rate across items (Holm), for 'predicts' and 'predicts nothing'.")
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence level of the effects' intervals.")
    item_window: int = Field(1, ge=1, le=24, description="Periods of reviews, the report period included, over which each rubric item is judged (which items predict, which predict nothing): one month rarely has the reviews to show an item predicts nothing. The metric's value and the QA score's effect stay the report period's. Needs that much history (period.history or the metric's history).")

    @model_validator(mode="after")
    def _distinct(self) -> RubricParams:
        columns = [o.column for o in self.outcomes]
        if len(set(columns)) != len(columns):
            raise ValueError("each outcome column may be listed once")
        return self

    def columns(self) -> list[str]:
        return [*super().columns(), *(o.column for o in self.outcomes)]


# --- the review-level table ---------------------------------------------------------------------


def _window(history: HistoryFrames | None, size: int) -> tuple[list[Any], pd.DataFrame] | None:
    """The last ``size`` periods to the report period with rows, and their rows in one frame;
    None for a window of one period (or no history kept)."""
    if size <= 1 or history is None or history.current is None:
        return None
    periods = [p for p in history.periods
               if p.start <= history.current.start and p.key in history.frames][-size:]
    if len(periods) <= 1:
        return None
    return periods, pd.concat([history.frame(p) for p in periods], ignore_index=True)



def review_table(frame: pd.DataFrame, params: RubricParams) -> pd.DataFrame:
    """One row per scored review: agent, ``score``, one ``item:<name>`` column per rubric item
    (0-100; NaN when not rated) and one column per outcome (NaN when unknown)."""
    scores = review_scores(frame, params).set_index("review")["score"]
    rating = numeric(frame, params.rating_column)
    low, high = numeric(frame, params.scale_min_column), numeric(frame, params.scale_max_column)
    item_score = ((rating - low) / (high - low).replace(0, np.nan) * 100.0) \
        .where((rating >= low) & (rating <= high))
    long = pd.DataFrame({"review": frame[params.review_column],
                         "item": frame[params.item_column].astype(str), "value": item_score})
    items = long.dropna(subset=["value"]).pivot_table(index="review", columns="item",
                                                      values="value", aggfunc="mean")
    items.columns = [f"item:{c}" for c in items.columns]
    first = frame.groupby(frame[params.review_column], sort=False)
    table = pd.DataFrame({"score": scores})
    table["agent"] = first[params.agent_column].first().astype(str).reindex(table.index)
    for outcome in params.outcomes:
        values = (flags(frame, outcome.column).astype("Float64").astype(float)
                  if outcome.kind == "binary" else numeric(frame, outcome.column))
        table[outcome.column] = values.groupby(frame[params.review_column]).first() \
            .reindex(table.index)
    return table.join(items)


# --- one effect -------------------------------------------------------------------------------


def effect(x: pd.Series, y: pd.Series, agents: pd.Series, outcome: Outcome,
           params: RubricParams) -> dict[str, Any]:
    """The outcome's change per ``params.per`` points of ``x``, clustered by agent: effect,
    interval, two-sided p and the equivalence p against the negligible band."""
    keep = x.notna() & y.notna()
    xs, ys = x[keep].to_numpy(float), y[keep].to_numpy(float)
    groups = pd.factorize(agents[keep])[0]
    clusters = int(groups.max()) + 1 if len(groups) else 0
    row: dict[str, Any] = {"outcome": outcome.column, "n": int(len(xs)), "clusters": clusters,
                           "effect": None, "low": None, "high": None, "p_value": None,
                           "p_equivalent": None, "negligible": outcome.negligible}
    if len(xs) < params.min_reviews or clusters < 3 or np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return row
    fitted = _fit(xs / params.per, ys, groups, outcome.kind, params.confidence)
    if fitted is None:
        return row
    value, se, low, high, p, df = fitted
    row.update(effect=value, low=low, high=high, p_value=p, se=se, df=df,
               p_equivalent=equivalence_p(value, se, outcome.negligible, df))
    return row


def _fit(x: np.ndarray, y: np.ndarray, groups: np.ndarray, kind: str,
         confidence: float) -> tuple[float, float, float, float, float, float | None] | None:
    """(effect, se, low, high, p, t degrees of freedom or None for normal) of y on x."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    design = sm.add_constant(x, has_constant="add")
    cluster = {"groups": groups}
    if kind == "continuous":
        fit = sm.OLS(y, design).fit(cov_type="cluster", cov_kwds=cluster, use_t=True)
        low, high = fit.conf_int(alpha=1 - confidence)[1]
        return (float(fit.params[1]), float(fit.bse[1]), float(low), float(high),
                float(fit.pvalues[1]), float(fit.df_resid_inference))
    with warnings.catch_warnings():
        # a separated or non-converging fit is reported as no estimate, not as a warning
        warnings.simplefilter("ignore", (ConvergenceWarning, PerfectSeparationWarning,
                                         RuntimeWarning))
        try:
            logit = sm.Logit(y, design).fit(disp=0, cov_type="cluster", cov_kwds=cluster)
        except (np.linalg.LinAlgError, ValueError):
            return None
        if not logit.mle_retvals.get("converged", False):
            return None
        margins = logit.get_margeff(at="overall", method="dydx")
    value, se = float(margins.margeff[0]), float(margins.margeff_se[0])
    if not (math.isfinite(value) and math.isfinite(se)) or se <= 0:
        return None
    low, high = margins.conf_int(alpha=1 - confidence)[0]
    return value, se, float(low), float(high), float(margins.pvalues[0]), None


def equivalence_p(value: float, se: float, band: float, df: float | None) -> float:
    """Two one-sided tests that the effect lies within (-band, +band): the larger p-value.

    statsmodels has TOST for means and proportions, not for a regression coefficient with a
    given standard error; the two one-sided tests are a line each.
    """
    from scipy import stats as sps

    reference = sps.norm if df is None else sps.t(df)
    above_low = float(reference.sf((value + band) / se))  # H0: effect <= -band
    below_high = float(reference.cdf((value - band) / se))  # H0: effect >= +band
    return max(above_low, below_high)


# --- the tables ---------------------------------------------------------------------------------


def validity(table: pd.DataFrame, params: RubricParams, *,
             with_items: bool = True) -> dict[str, Any]:
    """The score's effect on every outcome, each item's, Holm across items per outcome, and
    the items that predict nothing on any outcome (candidates to retire); ``with_items``
    False: the score's effects only (the items are judged over another window)."""
    score = [effect(table["score"], table[o.column], table["agent"], o, params)
             for o in params.outcomes]
    names = sorted(c.removeprefix("item:") for c in table.columns
                   if c.startswith("item:")) if with_items else []
    items: list[dict[str, Any]] = [
        {"item": name, "effects": [effect(table[f"item:{name}"], table[o.column], table["agent"],
                                          o, params) for o in params.outcomes]}
        for name in names]
    for k in range(len(params.outcomes)):
        column = [item["effects"][k] for item in items]
        for key in ("p_value", "p_equivalent"):
            adjusted = significance.holm([row[key] for row in column])
            for row, value in zip(column, adjusted, strict=True):
                row[f"{key}_adjusted"] = value
        for row in column:
            row["predicts"] = bool(row["p_value_adjusted"] is not None
                                   and row["p_value_adjusted"] < params.alpha)
            row["predicts_nothing"] = bool(row["p_equivalent_adjusted"] is not None
                                           and row["p_equivalent_adjusted"] < params.alpha)
    for item in items:
        item["retire"] = all(row["predicts_nothing"] for row in item["effects"])
    return {"score": score, "items": items,
            "retire": [item["item"] for item in items if item["retire"]],
            "reviews": len(table), "agents": int(table["agent"].nunique())}


@CALCULATORS.register("rubric_validity")
class RubricValidity(ScorecardCalculator):
    """The QA score's effect on the first outcome, per ``per`` points (clustered by agent)."""

    name = "rubric_validity"
    Params = RubricParams
    unit = "number"
    direction = "higher"
    estimate_kind = "statistic"
    formula = ("change of the first outcome per {per} QA-score points, regressed at the review "
               "level (OLS for a number, Logit's average marginal effect for a flag) with "
               "standard errors clustered by {agent_column}; each rubric item ({item_column}) "
               "alike, Holm across items at {alpha}")

    def unit_for(self, params: CalculatorParams) -> Unit:
        assert isinstance(params, RubricParams)
        return "points" if params.outcomes[0].kind == "binary" else "number"

    def direction_for(self, params: CalculatorParams) -> Direction:
        assert isinstance(params, RubricParams)
        return params.outcomes[0].better

    def aggregation(self, params: CalculatorParams) -> None:
        return None

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Statistic:
        assert isinstance(params, RubricParams)
        table = review_table(frame, params)
        first = params.outcomes[0]
        row = effect(table["score"], table[first.column], table["agent"], first, params)
        if row["effect"] is None:
            return Statistic(None, row["n"])
        se, df, value = row["se"], row["df"], row["effect"]

        def interval(level: float) -> tuple[float, float]:
            from scipy import stats as sps

            reference = sps.norm if df is None else sps.t(df)
            half = float(reference.ppf(0.5 + level / 2)) * se
            return value - half, value + half

        method = ("OLS, t on the agents (cluster-robust)" if df is not None
                  else "Logit marginal effect (cluster-robust, delta method)")
        return Statistic(value, row["n"], method, interval)

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, RubricParams)
        pooled = _window(history, params.item_window)
        out = validity(review_table(frame, params), params, with_items=pooled is None)
        if pooled is not None:
            periods, rows = pooled
            judged = validity(review_table(rows, params), params)
            out = {**out, "items": judged["items"], "retire": judged["retire"],
                   "item_window": {"periods": len(periods), "first": periods[0].key,
                                   "last": periods[-1].key,
                                   "label": f"{periods[0].label} to {periods[-1].label}",
                                   "reviews": judged["reviews"], "agents": judged["agents"]}}
        return {**out, "per": params.per, "alpha": params.alpha,
                "confidence": params.confidence, "cluster_column": params.agent_column,
                "outcomes": [o.model_dump() | {"name": o.name} for o in params.outcomes]}
