"""Calculators: named, configured from YAML, pure (DataFrame in, estimate out)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from reportgen.period import Period
from reportgen.registry import Registry
from reportgen.text.number import plain

if TYPE_CHECKING:
    import pandas as pd
    from pandas.core.groupby import DataFrameGroupBy

    from reportgen.data.aggregates import Aggregation, Measure
    from reportgen.data.quantiles import QuantileMeasure
    from reportgen.metrics.estimates import Estimate
    from reportgen.report.model.metric_results import Direction, Scale, Unit


class CalculatorParams(BaseModel):
    """Parameters of a calculator.  ``column_fields`` names the fields that hold column names."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    column_fields: ClassVar[tuple[str, ...]] = ()

    def columns(self) -> list[str]:
        """Every column these parameters read (checked against the source's contract)."""
        out: list[str] = []
        for name in self.column_fields:
            value = getattr(self, name)
            if value is None:
                continue
            out.extend(value if isinstance(value, list | tuple) else [value])
        return out


class NoParams(CalculatorParams):
    pass


@dataclass(frozen=True)
class Exclusion:
    """Values a calculator leaves out for one reason, declared so they can be counted.

    ``condition`` is true for a row whose value is left out (a SQL condition over the
    row's columns, as a measure reads them); the engine counts such rows per period in the
    statement that computes the metric's aggregates, and the data-quality note says
    "<count> <noun>s <qualifier> left out".  Blanks are no value and are never counted.
    """

    reason: str
    noun: str
    qualifier: str
    condition: Measure


def outside(column: str, low: float, high: float, noun: str) -> Exclusion:
    """Numbers of ``column`` outside ``low..high`` (an answer off the question's scale)."""

    def condition(cols: Any) -> Any:
        import sqlalchemy as sa

        value = cols.num(column)
        return sa.and_(value.is_not(None), sa.not_(value.between(low, high)))

    return Exclusion("off_scale", noun, f"outside {plain(low)} to {plain(high)}", condition)


def negative(column: str) -> Exclusion:
    """Negative numbers of a duration ``column`` (an end recorded before its start)."""
    return Exclusion("negative", "negative duration", f"in '{column}'",
                     lambda cols: cols.num(column) < 0)


def not_a_flag(column: str) -> Exclusion:
    """Values of a flag ``column`` that are neither 1/0 nor true/false, yes/no (a 2, a
    "maybe"): read as no flag at all, so they are out of the rate, and counted."""

    def condition(cols: Any) -> Any:
        import sqlalchemy as sa

        written = sa.and_(cols[column].is_not(None), sa.func.trim(cols.text(column)) != "")
        return sa.and_(written, cols.flag(column).is_(None))

    return Exclusion(f"not_a_flag:{column}", f"'{column}' value",
                     "other than 1/0, true/false or yes/no", condition)


def only_where(exclusion: Exclusion, rows: Measure) -> Exclusion:
    """``exclusion`` counted only in the rows a metric reads (``rows``: their condition),
    e.g. an overturn flag only where the decision was appealed."""

    def condition(cols: Any) -> Any:
        return exclusion.condition(cols) & rows(cols)

    return Exclusion(exclusion.reason, exclusion.noun, exclusion.qualifier, condition)


def among(exclusion: Exclusion, status_column: str | None, statuses: Sequence[str]) -> Exclusion:
    """``exclusion`` counted only in rows whose ``status_column`` is one of ``statuses``
    (the rows the metric reads); unchanged without a status column."""
    if status_column is None:
        return exclusion
    column = status_column
    return only_where(exclusion, lambda cols: cols.lower_in(column, statuses))


@dataclass(frozen=True)
class HistoryFrames:
    """The metric's rows for each period of the history, oldest first (for details).

    ``current`` is the report period (the one ``details`` is computed for).
    """

    periods: Sequence[Period]
    frames: Mapping[str, pd.DataFrame]
    current: Period | None = None

    def frame(self, period: Period) -> pd.DataFrame:
        return self.frames[period.key]

    def combined(self) -> pd.DataFrame:
        """Every period's rows in one frame (rows seen by several to-date periods once)."""
        import pandas as pd

        parts = [self.frames[p.key] for p in self.periods if p.key in self.frames]
        if not parts:
            return pd.DataFrame()
        joined = pd.concat(parts)
        return joined.loc[~joined.index.duplicated(keep="last")]

    def previous(self) -> pd.DataFrame | None:
        """The rows of the period before the report period (None when not kept)."""
        if self.current is None:
            return None
        return self.frames.get(self.current.previous().key)


class Calculator:
    """Base class of calculators.  Subclasses set the class attributes and ``estimate``."""

    name: ClassVar[str]
    Params: ClassVar[type[CalculatorParams]] = NoParams
    unit: ClassVar[Unit] = "number"
    direction: ClassVar[Direction] = "higher"
    formula: ClassVar[str] = ""
    #: whether the metric's numerator adds up across a breakdown's rows
    additive: ClassVar[bool] = False
    #: the kind of estimate returned: proportion, mean, quantile, net_score, count, statistic
    estimate_kind: ClassVar[str] = ""
    #: which rows the calculator sees for a period: "period" = the rows assigned to it;
    #: "to_date" = every loaded row up to and including it (stocks such as a backlog,
    #: which also need the period's bounds, see ``estimate_for``)
    scope: ClassVar[Literal["period", "to_date"]] = "period"
    #: what one unit of the sample size is, as a reader calls it (``fewer than 30 responses``)
    n_noun: ClassVar[str] = "value"

    def describe(self, params: CalculatorParams) -> str:
        """The formula with this definition's parameters filled in (for the methodology)."""
        # An unset optional param is named rather than printed as "None" (the formulas only
        # use them in conditional clauses: "when {x} is set"); lists read "a, b".
        return self.formula.format(**{
            name: f"the {name} parameter" if value is None
            else ", ".join(map(str, value)) if isinstance(value, list) else value
            for name, value in params.model_dump().items()})

    def for_source(self, params: CalculatorParams, declared: Collection[str]) -> CalculatorParams:
        """The params with defaults that depend on the source: ``declared`` are the columns
        its contract declares (e.g. clustering audits by a declared agent column)."""
        return params

    def unit_for(self, params: CalculatorParams) -> Unit:
        return self.unit

    def scale_for(self, params: CalculatorParams) -> Scale | None:
        """The range a score's values lie in, and the word for its good end (a tile states
        both; a target outside the range is a definition error); None for rates, counts
        and durations, whose unit says it."""
        return None

    def direction_for(self, params: CalculatorParams) -> Direction:
        """Which way is good, unless the definition says otherwise."""
        return self.direction

    def aggregation(self, params: CalculatorParams) -> Aggregation | None:
        """The aggregates the calculator needs, computed where the data lives; None when
        it needs the rows themselves (exact quantiles, agreement statistics...)."""
        return None

    def quantile(self, params: CalculatorParams) -> QuantileMeasure | None:
        """For a calculator whose estimate is a quantile of a per-row value: that value and
        the quantile, so a database that can compute exact quantiles does (None: read rows)."""
        return None

    def exclusions(self, params: CalculatorParams) -> tuple[Exclusion, ...]:
        """The values the calculator leaves out as invalid (off the scale, negative), per
        reason; they are counted, never dropped silently.  Only "period" scope."""
        return ()

    def from_aggregates(self, values: Mapping[str, Any], params: CalculatorParams) -> Estimate:
        """The estimate from this calculator's aggregates over one group of rows
        (``values`` is empty when the group has no rows)."""
        raise NotImplementedError

    def details_from_aggregates(self, current: Mapping[str, Any], params: CalculatorParams,
                                history: Sequence[tuple[Period, Mapping[str, Any]]]
                                ) -> Mapping[str, Any]:
        """Calculator-specific extras for charts, from the period's and the history's aggregates."""
        return {}

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Estimate:
        """The estimate over ``frame``'s rows.  An aggregating calculator runs its own
        aggregation over the frame (in DuckDB), so there is one implementation of it."""
        aggregation = self.aggregation(params)
        if aggregation is None:
            raise NotImplementedError
        from reportgen.data.frames import aggregate_frame

        return self.from_aggregates(aggregate_frame(frame, aggregation), params)

    def estimate_for(self, frame: pd.DataFrame, params: CalculatorParams,
                     period: Period) -> Estimate:
        """The estimate for ``period``; calculators that need the period's bounds override this."""
        return self.estimate(frame, params)

    def estimate_groups(self, groups: DataFrameGroupBy, params: CalculatorParams,
                        period: Period) -> dict[Any, Estimate]:
        """The estimate for ``period`` of each group of rows, keyed as pandas keys the groups.
        Calculators whose estimates come from one grouped statement override this to run
        the statement once for every group."""
        return {key: self.estimate_for(part, params, period) for key, part in groups}

    def details(
        self, frame: pd.DataFrame, params: CalculatorParams, history: HistoryFrames
    ) -> Mapping[str, Any]:
        """Calculator-specific extras for charts (a distribution, control limits...)."""
        aggregation = self.aggregation(params)
        if aggregation is None:
            return {}
        from reportgen.data.frames import aggregate_frame

        past = [] if history is None else [
            (p, aggregate_frame(history.frame(p), aggregation))
            for p in history.periods if p.key in history.frames]
        return self.details_from_aggregates(aggregate_frame(frame, aggregation), params, past)


CALCULATORS: Registry[Calculator] = Registry(
    "calculator",
    "reportgen.metrics",
    builtins=(
        "reportgen.metrics.voc", "reportgen.metrics.qa", "reportgen.metrics.operations",
        "reportgen.metrics.backlog", "reportgen.metrics.sampling",
        "reportgen.metrics.calibration", "reportgen.metrics.agreement",
        "reportgen.metrics.trust_safety", "reportgen.metrics.control",
        "reportgen.metrics.qa_programme", "reportgen.metrics.text_themes",
        "reportgen.metrics.moderation", "reportgen.metrics.rubric",
        "reportgen.metrics.forecast", "reportgen.metrics.autoqa",
        "reportgen.metrics.audit_sample",
    ),
)


def calculator(name: str) -> Calculator:
    """The registered calculator ``name`` (raises UnknownNameError with a did-you-mean)."""
    return CALCULATORS.instance(name)
