"""Trust & Safety calculators over moderation decisions: accuracy against gold labels, appeals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, field_validator

from reportgen.metrics.base import (
    CALCULATORS,
    Calculator,
    CalculatorParams,
    Exclusion,
    not_a_flag,
    only_where,
)
from reportgen.metrics.estimates import Proportion, proportion_from
from reportgen.period import Period

if TYPE_CHECKING:
    from reportgen.data.aggregates import Aggregation, Cols


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


def _labelled(cols: Cols, params: AccuracyParams) -> tuple[Any, Any, Any]:
    """(has a gold label, action, gold label), both labels trimmed."""
    action, gold = cols.trimmed(params.action_column), cols.trimmed(params.gold_column)
    return gold.is_not(None) & (gold != ""), action, gold


def _rank(value: Any, severity: list[str]) -> Any:
    import sqlalchemy as sa

    return sa.case(*((value == name, i) for i, name in enumerate(severity)), else_=sa.null())


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

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        from reportgen.data.aggregates import Aggregation, count_if

        assert isinstance(params, AccuracyParams)

        def compared(cols: Cols, how: str) -> Any:
            labelled, action, gold = _labelled(cols, params)
            acted, truth = _rank(action, params.severity), _rank(gold, params.severity)
            ranked = acted.is_not(None) & truth.is_not(None)
            return count_if(labelled & {"over": ranked & (acted > truth),
                                        "under": ranked & (acted < truth),
                                        "unranked": ~ranked}[how])

        return Aggregation({
            "trials": lambda cols: count_if(_labelled(cols, params)[0]),
            "successes": lambda cols: count_if(_labelled(cols, params)[0]
                                               & (_labelled(cols, params)[1]
                                                  == _labelled(cols, params)[2])),
            "over": lambda cols: compared(cols, "over"),
            "under": lambda cols: compared(cols, "under"),
            "unranked": lambda cols: compared(cols, "unranked"),
        })

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Proportion:
        return proportion_from(values)

    def details_from_aggregates(self, current: Mapping[str, Any], params: CalculatorParams,
                                history: Sequence[tuple[Period, Mapping[str, Any]]]
                                ) -> Mapping[str, Any]:
        assert isinstance(params, AccuracyParams)
        total = int(current.get("trials") or 0)
        over, under = int(current.get("over") or 0), int(current.get("under") or 0)
        return {
            "labelled": total,
            "over_enforcement": over,
            "under_enforcement": under,
            "over_enforcement_rate": over / total if total else None,
            "under_enforcement_rate": under / total if total else None,
            # Actions outside the severity list cannot be called stricter or more lenient.
            "unranked": int(current.get("unranked") or 0),
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

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        from reportgen.data.aggregates import Aggregation, count_if

        assert isinstance(params, AppealParams)
        return Aggregation({
            "trials": lambda cols: count_if(cols.flag(params.appealed_column).is_not(None)),
            "successes": lambda cols: count_if(cols.flag(params.appealed_column) == 1),
        })

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Proportion:
        return proportion_from(values)

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, AppealParams)
        return (not_a_flag(params.appealed_column),)


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

    def aggregation(self, params: CalculatorParams) -> Aggregation:
        from reportgen.data.aggregates import Aggregation, count_if

        assert isinstance(params, OverturnParams)

        def appealed(cols: Cols) -> Any:
            return cols.flag(params.appealed_column) == 1

        return Aggregation({
            "trials": lambda cols: count_if(appealed(cols)),
            "successes": lambda cols: count_if(appealed(cols)
                                               & (cols.flag(params.overturned_column) == 1)),
        })

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Proportion:
        return proportion_from(values)

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        assert isinstance(params, OverturnParams)
        appealed = params.appealed_column
        return (not_a_flag(appealed),
                only_where(not_a_flag(params.overturned_column),
                           lambda cols: cols.flag(appealed) == 1))
