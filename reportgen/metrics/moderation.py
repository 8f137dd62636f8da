"""Moderation decision quality against gold-labelled samples: precision, recall, appeals.

``moderation_quality`` reads moderation decisions (one row per decision, as
``decision_accuracy``).  A decision *enforces* when its action is not one of ``no_action``;
the gold label says whether it should have.  Over the decisions with a gold label:

* precision = enforced and should have / enforced (how often an action was right);
* recall = enforced and should have / should have (how much of what needed action got it);

overall, per cell of ``cell_columns`` (policy area x language or market) with each cell's
test against the rest of the period (Holm across cells), and before: the previous period's.
Decisions of one moderator resemble each other, so with ``cluster_column`` (by default the
source's declared ``moderator_id``) the intervals use the cluster-robust design effect
(Wilson, or Clopper-Pearson, on the effective n: Korn & Graubard), as ``pass_rate`` does.
The details also hold the appeal overturn rate with its change against the previous period,
and each policy area's false positives and false negatives for the Pareto of errors.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from reportgen._lazy import lazy
from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, HistoryFrames
from reportgen.metrics.clustered_estimates import ClusteredProportion
from reportgen.metrics.columns import flags
from reportgen.metrics.estimates import Proportion
from reportgen.report.model.metric_results import Interval

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from reportgen.stats import intervals, significance
else:
    np = lazy("numpy")
    pd = lazy("pandas")
    intervals = lazy("reportgen.stats.intervals")
    significance = lazy("reportgen.stats.significance")

#: the column a moderation source declares for the deciding moderator; decisions cluster by it
MODERATOR_COLUMN = "moderator_id"

Measure = Literal["precision", "recall"]
MEASURES: tuple[Measure, ...] = ("precision", "recall")


class ModerationParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = (
        "action_column", "gold_column", "cell_columns", "area_column", "appealed_column",
        "overturned_column", "cluster_column")
    action_column: str = Field("action", description="Column holding the moderator's action.")
    gold_column: str = Field("gold_action", description="Column holding the QA gold label; blank = not sampled.")
    no_action: list[str] = Field(default_factory=lambda: ["no_action"], min_length=1, description="Actions (and gold labels) that do not enforce; any other action enforces.")
    measure: Measure = Field("precision", description="Which of precision and recall is the metric's value (both are in the details and the finding).")
    cell_columns: list[str] = Field(default_factory=lambda: ["policy_area"], min_length=1, description="Columns whose combinations are the cells precision and recall are given for (policy area x language or market).")
    area_column: str = Field("policy_area", description="Column naming the policy area, for the Pareto of errors.")
    appealed_column: str | None = Field("appealed", description="Flag: the decision was appealed (none: no appeal figures).")
    overturned_column: str | None = Field("overturned", description="Flag: the appeal overturned the decision.")
    interval: Literal["wilson", "clopper_pearson"] = Field("wilson", description="Interval method of every rate: Wilson's score interval or the exact Clopper-Pearson one.")
    cluster_column: str | None = Field(
        None, description="Column naming the unit decisions cluster in (the moderator): the "
                          "intervals and tests then allow for a moderator's decisions "
                          "resembling each other. Defaults to moderator_id when the source "
                          "declares it.")
    unclustered_because: str | None = Field(None, min_length=3, description="Turns the default clustering by moderator off, saying why.")
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence level of the cells' and the overturn rate's intervals.")

    @model_validator(mode="after")
    def _consistent(self) -> ModerationParams:
        if self.cluster_column is not None and self.unclustered_because is not None:
            raise ValueError("set either 'cluster_column' or 'unclustered_because', not both")
        if (self.appealed_column is None) != (self.overturned_column is None):
            raise ValueError("set both 'appealed_column' and 'overturned_column', or neither")
        return self


# --- estimates with the interval the definition asks for ---------------------------------------


@dataclass(frozen=True)
class ExactProportion(Proportion):
    """A share with the exact Clopper-Pearson interval."""

    interval_name: str | None = "Clopper-Pearson"

    def interval(self, level: float) -> Interval | None:
        if not self.trials:
            return None
        low, high = intervals.clopper_pearson_interval(self.successes, self.trials, level)
        return Interval(low, high, level, "Clopper-Pearson")


@dataclass(frozen=True)
class ClusteredExactProportion(ClusteredProportion):
    """A clustered share with Clopper-Pearson's interval on the effective sample size."""

    interval_name: str | None = "Clopper-Pearson on the effective n (cluster-robust design effect)"

    def interval(self, level: float) -> Interval | None:
        if not self.trials:
            return None
        design = self.design(level)
        if design is None:
            low, high = intervals.clopper_pearson_interval(self.successes, self.trials, level)
            return Interval(low, high, level, "Clopper-Pearson")
        share = self.successes / self.trials
        low, high = intervals.clopper_pearson_interval(share * design.effective_n,
                                                   design.effective_n, level)
        return Interval(low, high, level, self.interval_name or "")


def share_of(successes: pd.Series, trials: pd.Series, clusters: pd.Series | None,
             method: str) -> Proportion:
    """The share ``successes / trials`` (boolean row masks), clustered when ``clusters`` is set."""
    hit, tried = successes & trials, trials
    if clusters is None:
        kind = ExactProportion if method == "clopper_pearson" else Proportion
        return kind(float(hit.sum()), float(tried.sum()))
    per = pd.DataFrame({"hit": hit, "tried": tried, "cluster": clusters}).loc[tried]
    sums = per.groupby("cluster", sort=True)[["hit", "tried"]].sum()
    kind_c = ClusteredExactProportion if method == "clopper_pearson" else ClusteredProportion
    return kind_c(float(sums["hit"].sum()), float(sums["tried"].sum()),
                  cluster_successes=tuple(sums["hit"].astype(float)),
                  cluster_trials=tuple(sums["tried"].astype(float)))


# --- decisions against gold labels --------------------------------------------------------------


def labelled_decisions(frame: pd.DataFrame, params: ModerationParams) -> pd.DataFrame:
    """The decisions with an action and a gold label: ``enforced``, ``should`` (the gold
    label enforces), the cell columns, the area and the cluster of each."""
    action = frame[params.action_column].astype("string").str.strip()
    gold = frame[params.gold_column].astype("string").str.strip()
    known = (action.notna() & (action != "") & gold.notna() & (gold != "")).to_numpy(bool)
    lenient = set(params.no_action)
    out = pd.DataFrame({
        "enforced": ~action.isin(lenient).to_numpy(bool),
        "should": ~gold.isin(lenient).to_numpy(bool)}, index=frame.index)
    for column in dict.fromkeys([*params.cell_columns, params.area_column]):
        out[column] = frame[column].astype("string").fillna("(blank)")
    out["cluster"] = _clusters(frame, params)
    return out.loc[known]


def _clusters(frame: pd.DataFrame, params: ModerationParams) -> pd.Series | None:
    if params.cluster_column is None:
        return None
    column = frame[params.cluster_column]
    # a decision with no moderator recorded is its own cluster: merging them would invent one
    return column.astype(object).where(column.notna(), "\0" + frame.index.astype(str))


def confusion(table: pd.DataFrame) -> dict[str, int]:
    """True and false positives and negatives of ``labelled_decisions`` rows."""
    enforced, should = table["enforced"], table["should"]
    return {"true_positives": int((enforced & should).sum()),
            "false_positives": int((enforced & ~should).sum()),
            "false_negatives": int((~enforced & should).sum()),
            "true_negatives": int((~enforced & ~should).sum())}


def measure_estimate(table: pd.DataFrame, measure: Measure, method: str) -> Proportion:
    """Precision (of the enforced) or recall (of those that should have been) as a share."""
    correct = table["enforced"] & table["should"]
    among = table["enforced"] if measure == "precision" else table["should"]
    clusters = None if table["cluster"].isna().all() else table["cluster"]
    return share_of(correct, among, clusters, method)


def _rates(table: pd.DataFrame, params: ModerationParams) -> dict[str, Any]:
    row: dict[str, Any] = {"n": len(table), **confusion(table)}
    for measure in MEASURES:
        estimate = measure_estimate(table, measure, params.interval)
        bounds = estimate.interval(params.confidence)
        design = estimate.design(params.confidence) if isinstance(
            estimate, ClusteredProportion) else None
        row[measure] = estimate.value
        row[f"{measure}_n"] = int(estimate.trials)
        row[f"{measure}_low"] = bounds.low if bounds else None
        row[f"{measure}_high"] = bounds.high if bounds else None
        row[f"{measure}_design_effect"] = design.design_effect if design else None
    return row


def _cells(table: pd.DataFrame, params: ModerationParams) -> list[dict[str, Any]]:
    """Each cell's rates, and its test against the rest of the period (Holm across cells)."""
    rows: list[dict[str, Any]] = []
    for key, part in table.groupby(params.cell_columns, sort=True):
        keys = key if isinstance(key, tuple) else (key,)
        row = {"cell": dict(zip(params.cell_columns, map(str, keys), strict=True)),
               "label": " / ".join(map(str, keys)), **_rates(part, params)}
        rest = table.drop(index=part.index)
        for measure in MEASURES:
            mine = measure_estimate(part, measure, params.interval)
            other = measure_estimate(rest, measure, params.interval)
            change = mine.compare(other, 0.05)
            row[f"{measure}_rest"] = other.value
            row[f"{measure}_p"] = change.p_value
        rows.append(row)
    for measure in MEASURES:
        adjusted = significance.holm([r[f"{measure}_p"] for r in rows])
        for row, value in zip(rows, adjusted, strict=True):
            row[f"{measure}_p_adjusted"] = value
    return rows


def _areas(table: pd.DataFrame, params: ModerationParams) -> list[dict[str, Any]]:
    """False positives and negatives per policy area, most errors first."""
    rows = []
    for area, part in table.groupby(params.area_column, sort=True):
        counts = confusion(part)
        rows.append({"area": str(area), "false_positives": counts["false_positives"],
                     "false_negatives": counts["false_negatives"],
                     "errors": counts["false_positives"] + counts["false_negatives"],
                     "labelled": len(part)})
    return sorted(rows, key=lambda r: (-r["errors"], r["area"]))


def _appeals(frame: pd.DataFrame, params: ModerationParams) -> Proportion | None:
    if params.appealed_column is None or params.overturned_column is None:
        return None
    appealed = flags(frame, params.appealed_column).fillna(False).to_numpy(bool)
    overturned = flags(frame, params.overturned_column).fillna(False).to_numpy(bool)
    index = frame.index
    return share_of(pd.Series(overturned, index=index), pd.Series(appealed, index=index),
                    _clusters(frame, params), params.interval)


def overturn_details(frame: pd.DataFrame, before: pd.DataFrame | None,
                     params: ModerationParams) -> dict[str, Any] | None:
    """The overturn rate among appealed decisions, its interval and its change."""
    now = _appeals(frame, params)
    if now is None:
        return None
    bounds = now.interval(params.confidence)
    out: dict[str, Any] = {
        "appealed": int(now.trials), "overturned": int(now.successes), "rate": now.value,
        "low": bounds.low if bounds else None, "high": bounds.high if bounds else None,
        "previous_appealed": None, "previous_overturned": None, "previous_rate": None,
        "delta": None, "p_value": None, "test": None}
    previous = None if before is None else _appeals(before, params)
    if previous is not None and previous.trials and now.trials:
        change = now.compare(previous, 0.05)
        out.update(previous_appealed=int(previous.trials),
                   previous_overturned=int(previous.successes), previous_rate=previous.value,
                   delta=change.delta, p_value=change.p_value, test=change.test)
    return out



@CALCULATORS.register("moderation_quality")
class ModerationQuality(Calculator):
    """Precision (or recall) of moderation decisions against gold labels."""

    name = "moderation_quality"
    Params = ModerationParams
    unit = "percent"
    direction = "higher"
    estimate_kind = "proportion"
    formula = ("{measure} of enforcement against gold labels: precision = decisions enforced "
               "whose gold label enforces / decisions enforced; recall = the same / decisions "
               "whose gold label enforces (an action or label outside {no_action} enforces; "
               "{interval} intervals)")

    def for_source(self, params: CalculatorParams, declared: Collection[str]) -> CalculatorParams:
        assert isinstance(params, ModerationParams)
        if (params.cluster_column is None and params.unclustered_because is None
                and MODERATOR_COLUMN in declared):
            return params.model_copy(update={"cluster_column": MODERATOR_COLUMN})
        return params

    def describe(self, params: CalculatorParams) -> str:
        assert isinstance(params, ModerationParams)
        if params.cluster_column is not None:
            how = f"; clustered by {params.cluster_column}"
        elif params.unclustered_because is not None:
            how = f"; not clustered: {params.unclustered_because}"
        else:
            how = ""
        return super().describe(params) + how

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, ModerationParams)
        table = labelled_decisions(frame, params)
        return measure_estimate(table, params.measure, params.interval)

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, ModerationParams)
        table = labelled_decisions(frame, params)
        before = history.previous() if history is not None else None
        previous = None if before is None else labelled_decisions(before, params)
        return {
            "measure": params.measure, "interval": params.interval,
            "confidence": params.confidence, "cluster_column": params.cluster_column,
            "cell_columns": list(params.cell_columns), "area_column": params.area_column,
            "overall": _rates(table, params),
            "previous": None if previous is None or previous.empty else _rates(previous, params),
            "cells": _cells(table, params) if not table.empty else [],
            "areas": _areas(table, params),
            "overturns": overturn_details(frame, before, params),
        }
