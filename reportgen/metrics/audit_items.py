"""What ``audit_sample`` reads: its params, and one period's items with their part in the
audit sample (audited, skipped or replaced, not drawn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reportgen._lazy import lazy
from reportgen.metrics.base import CalculatorParams
from reportgen.metrics.columns import flags, numeric

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy("numpy")
    pd = lazy("pandas")

#: An item's part in the audit sample, read from ``status_column``.
AUDITED, SKIPPED, NOT_DRAWN, OTHER = "audited", "skipped", "not drawn", "other"
BLANK = "(blank)"


class ComparedColumn(BaseModel):
    """A column skipped items are compared with audited ones on."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    column: str = Field(description="Column of the items (channel, length, CSAT...).")
    kind: Literal["categorical", "numeric"] = Field(description="categorical: values are categories (chi-square); numeric: a number (Mann-Whitney or Welch).")
    test: Literal["mann_whitney", "welch"] | None = Field(None, description="Numeric columns: mann_whitney (default; any shape) or welch (Welch's t-test of the means).")
    label: str | None = Field(None, description="The column's name in sentences (default: the column), e.g. length.")
    higher: str | None = Field(None, description="Numeric columns: the word for a higher value, e.g. longer (with 'lower').")
    lower: str | None = Field(None, description="Numeric columns: the word for a lower value, e.g. shorter (with 'higher').")
    unit: str | None = Field(None, description="Numeric columns: the unit of its values in sentences, e.g. minutes (durations are written in words: 12.5 minutes).")

    @model_validator(mode="after")
    def _consistent(self) -> ComparedColumn:
        if self.kind == "categorical" and (self.test or self.higher or self.lower):
            raise ValueError(f"'{self.column}' is categorical: 'test', 'higher' and 'lower' "
                             f"apply to numeric columns only")
        if self.kind == "categorical" and self.unit:
            raise ValueError(f"'{self.column}' is categorical: its values have no 'unit'")
        if (self.higher is None) != (self.lower is None):
            raise ValueError(f"'{self.column}': set both 'higher' and 'lower', or neither")
        return self

    @property
    def name(self) -> str:
        return self.label or self.column.replace("_", " ")

    @property
    def numeric_test(self) -> str:
        return self.test or "mann_whitney"


def _default_compare() -> list[ComparedColumn]:
    return [ComparedColumn(column="channel", kind="categorical")]


Rate = Annotated[float, Field(gt=0, lt=1)]


class AuditSampleParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = (
        "status_column", "kpi_column", "group_column", "strata")
    status_column: str = Field("review_status", description="Column holding each item's audit status; blank = not drawn for audit.")
    audited: list[str] = Field(default_factory=lambda: ["audited"], min_length=1, description="Statuses of items audited (any case).")
    skipped: list[str] = Field(default_factory=lambda: ["skipped", "replaced"], min_length=1, description="Statuses of items drawn but skipped or replaced by a reviewer (any case).")
    item_noun: str = Field("ticket", min_length=1, description="What an item is, in sentences: ticket, conversation, decision.")
    kpi_column: str = Field("passed", description="Column holding the audited KPI of an audited item: a 1/0 flag (kpi: rate) or a number (kpi: mean).")
    kpi: Literal["rate", "mean"] = Field("rate", description="rate: the share of audited items with the flag set; mean: the average of the number.")
    kpi_label: str = Field("pass rate", min_length=1, description="The KPI's name in sentences.")
    group_column: str | None = Field("queue", description="Column whose groups (queue, agent) each need the sample size; none: the whole period only.")
    half_width: float = Field(0.05, gt=0, description="Wanted half-width of the KPI's interval per group: a fraction for a rate (0.05 = +-5 points), KPI units for a mean.")
    planning_rate: Rate | Literal["observed"] = Field(0.5, description="Rates: the rate the sample size is planned at: 0.5 (the worst case), a rate, or 'observed' (the period's audited rate).")
    planning_sd: float | None = Field(None, gt=0, description="Means: the spread the sample size is planned at (default: the sample standard deviation of the period's audited values).")
    strata: list[str] = Field(default_factory=lambda: ["channel"], min_length=1, description="Columns whose combinations are the strata the sample's mix is compared on, and reweighted to.")
    min_stratum_audits: int = Field(5, ge=2, description="A stratum with fewer audited values is left out of the reweighted estimate (and named).")
    compare: list[ComparedColumn] = Field(default_factory=_default_compare, description="Columns skipped items are compared with audited ones on.")
    min_skipped: int = Field(5, ge=2, description="With fewer skipped items, skipped and audited items are not compared.")
    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level of the mix test and of the comparisons (Holm across columns, across strata).")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Confidence level of the sample sizes, the skip share and the KPI estimates.")

    @model_validator(mode="after")
    def _consistent(self) -> AuditSampleParams:
        audited = {s.strip().lower() for s in self.audited}
        both = sorted(audited & {s.strip().lower() for s in self.skipped})
        if both:
            raise ValueError(f"status {', '.join(repr(s) for s in both)} is in both 'audited' "
                             f"and 'skipped'")
        columns = [c.column for c in self.compare]
        if len(set(columns)) != len(columns):
            raise ValueError("each 'compare' column may be listed once")
        if self.kpi == "rate" and self.half_width >= 0.5:
            raise ValueError(f"a rate's 'half_width' is a fraction (0.05 = +-5 points), "
                             f"found {self.half_width}")
        if self.kpi == "rate" and self.planning_sd is not None:
            raise ValueError("'planning_sd' plans a mean; a rate is planned at 'planning_rate'")
        used = {self.kpi_column, *self.strata, *columns}
        if self.group_column is not None:
            used.add(self.group_column)
        if self.status_column in used:
            raise ValueError(f"'status_column' ({self.status_column}) is also read as a KPI, "
                             f"group, stratum or compared column")
        return self

    def columns(self) -> list[str]:
        return list(dict.fromkeys([*super().columns(), *(c.column for c in self.compare)]))


# --- the items of one period --------------------------------------------------------------


def items(frame: pd.DataFrame, params: AuditSampleParams) -> pd.DataFrame:
    """One row per item: ``role`` (audited, skipped, not drawn, other), ``status`` (as
    written, lower case), ``kpi`` (audited items only; NaN when unknown), ``group`` and
    ``stratum`` (their values joined by ' / '; blanks read '(blank)')."""
    status = frame[params.status_column].astype("string").str.strip().str.lower().fillna("")
    audited = status.isin([s.strip().lower() for s in params.audited]).to_numpy(bool)
    skipped = status.isin([s.strip().lower() for s in params.skipped]).to_numpy(bool)
    blank = (status == "").to_numpy(bool)
    role = np.select([blank, audited, skipped], [NOT_DRAWN, AUDITED, SKIPPED], OTHER)
    if params.kpi == "rate":
        kpi = flags(frame, params.kpi_column).astype("Float64").astype(float)
    else:
        kpi = numeric(frame, params.kpi_column)
    out = pd.DataFrame({"role": role, "status": status.to_numpy(object),
                        "kpi": kpi.where(audited).to_numpy(float)}, index=frame.index)
    out["group"] = (_text(frame, params.group_column) if params.group_column
                    else pd.Series("all", index=frame.index))
    parts = [_text(frame, column) for column in params.strata]
    stratum = parts[0]
    for part in parts[1:]:
        stratum = stratum + " / " + part
    out["stratum"] = stratum
    return out


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column].astype("string").str.strip()
    return values.where(values.notna() & (values != ""), BLANK).astype(object)
