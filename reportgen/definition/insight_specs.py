"""What the findings read, as typed models of its YAML: interventions and their control groups,
the action register, and the insight settings.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from reportgen.definition.fields import Strict

ControlValue = Annotated[str | int | float | bool, Field(description="A value of the control column.")]


class ControlSpec(Strict):
    """A comparison group that did not get the change: rows whose ``column`` is one of
    ``values`` (and that match the rest of the intervention's scope)."""

    column: str = Field(min_length=1, description="Column that tells the groups apart, e.g. queue.")
    values: list[ControlValue] = Field(min_length=1, max_length=100, description="Its values in the control group, e.g. [Shipping].")


class InterventionSpec(Strict):
    name: str
    date: dt.date = Field(description="The day the change took effect.")
    metric: str = Field(description="Metric id expected to move.")
    scope: dict[str, Any] = Field(default_factory=dict, description="Rows it applies to, e.g. queue: Onboarding.")
    expected: Literal["improve", "decline"] = "improve"
    description: str = ""
    control: ControlSpec | None = Field(None, description="A group that did not get the change, e.g. {column: queue, values: [Shipping]}: the effect is then read as a difference in differences (the scope's change minus the control's).")

    @field_validator("control")
    @classmethod
    def _control_apart_from_scope(cls, control: ControlSpec | None,
                                  info: ValidationInfo) -> ControlSpec | None:
        scope = info.data.get("scope")
        if control is None or not isinstance(scope, dict):
            return control
        column = control.column
        if column not in scope:
            raise ValueError(f"control column '{column}' must also be in 'scope', so that the "
                             f"treated rows are told apart by it (e.g. scope: {{{column}: ...}})")
        treated = scope[column] if isinstance(scope[column], list) else [scope[column]]
        shared = [v for v in control.values if v in treated]
        if shared:
            raise ValueError(f"control values {shared!r} are also in scope.{column}; the control "
                             f"group must not overlap the rows that got the change")
        return control


class ActionsSpec(Strict):
    file: str = Field(description="The action register (YAML or CSV), relative to this file: "
                                  "finding, metric, action, owner, due date, status, KPI and target.")


class InsightsSpec(Strict):
    summary_findings: int = Field(5, ge=0, le=20, description="Findings shown in the executive summary.")
    pareto_cut: float = Field(0.8, gt=0, lt=1)
    streak_periods: int = Field(3, ge=2)
