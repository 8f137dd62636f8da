"""Trust & Safety calculators over moderation decisions: accuracy against gold labels, appeals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pandas as pd
from pydantic import Field, field_validator

from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, HistoryFrames
from reportgen.metrics.columns import flags
from reportgen.metrics.estimates import Proportion


class AccuracyParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("action_column", "gold_column")
    action_column: str = Field("action", description="Column holding the moderator's action.")
    gold_column: str = Field("gold_action", description="Column holding the QA gold label; blank = not sampled.")
    severity: list[str] = Field(
        default_factory=lambda: ["no_action", "restrict", "remove"],
        description="Actions from most lenient to strictest, for over/under-enforcement.")

    @field_validator("severity")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(value) < 2 or len(set(value)) != len(value):
            raise ValueError("severity must list at least two distinct actions")
        return value


def _labelled(frame: pd.DataFrame, params: AccuracyParams) -> tuple[pd.Series, pd.Series]:
    gold = frame[params.gold_column].astype("string").str.strip()
    has_gold = gold.notna() & (gold != "")
    action = frame[params.action_column].astype("string").str.strip()
    return action.loc[has_gold], gold.loc[has_gold]


@CALCULATORS.register("decision_accuracy")
class DecisionAccuracy(Calculator):
    """The share of gold-labelled decisions whose action matches the gold label."""

    name = "decision_accuracy"
    Params = AccuracyParams
    unit = "percent"
    direction = "higher"
    additive = True
    estimate_kind = "proportion"
    formula = "decisions with {action_column} = {gold_column} / decisions with a gold label"

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, AccuracyParams)
        action, gold = _labelled(frame, params)
        return Proportion(float((action == gold).sum()), float(len(gold)))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, AccuracyParams)
        action, gold = _labelled(frame, params)
        rank = {name: i for i, name in enumerate(params.severity)}
        acted, truth = action.map(rank), gold.map(rank)
        ranked = acted.notna() & truth.notna()
        total = len(gold)
        over = int((acted[ranked] > truth[ranked]).sum())
        under = int((acted[ranked] < truth[ranked]).sum())
        return {
            "labelled": total,
            "over_enforcement": over,
            "under_enforcement": under,
            "over_enforcement_rate": over / total if total else None,
            "under_enforcement_rate": under / total if total else None,
            # Actions outside the severity list cannot be called stricter or more lenient.
            "unranked": int((~ranked).sum()),
            "severity": list(params.severity),
        }


class AppealParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("appealed_column",)
    appealed_column: str = Field("appealed", description="Flag: the decision was appealed.")


@CALCULATORS.register("appeal_rate")
class AppealRate(Calculator):
    """The share of decisions appealed (filter on action for actioned decisions only)."""

    name = "appeal_rate"
    Params = AppealParams
    unit = "percent"
    direction = "lower"
    additive = True
    estimate_kind = "proportion"
    formula = "decisions with {appealed_column} = 1 / decisions"

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, AppealParams)
        appealed = flags(frame, params.appealed_column).dropna()
        return Proportion(float(appealed.sum()), float(len(appealed)))


class OverturnParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("appealed_column", "overturned_column")
    appealed_column: str = Field("appealed", description="Flag: the decision was appealed.")
    overturned_column: str = Field("overturned", description="Flag: the appeal overturned the decision.")


@CALCULATORS.register("overturn_rate")
class OverturnRate(Calculator):
    """The share of appealed decisions overturned on appeal."""

    name = "overturn_rate"
    Params = OverturnParams
    unit = "percent"
    direction = "lower"
    additive = True
    estimate_kind = "proportion"
    formula = "appealed decisions with {overturned_column} = 1 / decisions with {appealed_column} = 1"

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Proportion:
        assert isinstance(params, OverturnParams)
        appealed = frame.loc[flags(frame, params.appealed_column).fillna(False).to_numpy(bool)]
        overturned = flags(appealed, params.overturned_column).fillna(False)
        return Proportion(float(overturned.sum()), float(len(appealed)))
