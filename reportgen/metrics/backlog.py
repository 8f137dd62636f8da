"""Backlog: tickets still open at the end of a period, with their ages and the period's net flow.

A backlog is a stock, not a flow: at the end of October it includes a ticket created in
August and still open.  The calculator therefore has ``scope = "to_date"`` (the engine
hands it every loaded row up to the period) and reads the period's end from
``estimate_for``.  Its source must use the creation time as ``time_column``.

Limitation: only tickets created inside the loaded history window are seen, so the
backlog of the earliest history periods misses older tickets still open then; details
say from when tickets were seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, field_validator

from reportgen._lazy import lazy
from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, HistoryFrames
from reportgen.metrics.columns import timestamps
from reportgen.metrics.estimates import Count
from reportgen.period import Period, zone
from reportgen.text.number import plain

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy("numpy")
    pd = lazy("pandas")


class BacklogParams(CalculatorParams):
    column_fields: ClassVar[tuple[str, ...]] = ("created_column", "solved_column")
    created_column: str = Field("created_at", description="Column holding when the ticket was created (the source's time_column).")
    solved_column: str = Field("solved_at", description="Column holding when the ticket was solved; blank = still open.")
    timezone: str | None = Field(
        None, description="Timezone of naive timestamps in the data (the source's timezone); "
                          "default: the report's.")
    age_buckets_days: list[float] = Field(
        default_factory=lambda: [1.0, 3.0, 7.0, 14.0, 30.0],
        description="Upper bounds (days) of the age buckets of open tickets; the last bucket is open-ended.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value

    @field_validator("age_buckets_days")
    @classmethod
    def _increasing(cls, value: list[float]) -> list[float]:
        if not value or any(b <= a for a, b in zip(value, value[1:], strict=False)) or value[0] <= 0:
            raise ValueError("age_buckets_days must be positive and increasing, e.g. [1, 3, 7, 14, 30]")
        return value


def _open_at(frame: pd.DataFrame, params: BacklogParams, period: Period) -> tuple[pd.Series, pd.Series]:
    """(open mask, created instants) for tickets created before the period's end."""
    created = timestamps(frame, params.created_column, period, params.timezone)
    solved = timestamps(frame, params.solved_column, period, params.timezone)
    end = pd.Timestamp(period.end_at)
    seen = created < end
    still_open = seen & (solved.isna() | (solved >= end))
    return still_open.loc[seen], created.loc[seen]


def _bucket_labels(bounds: list[float]) -> list[str]:
    edges = [0.0, *bounds]
    labels = [f"{plain(a)}-{plain(b)} days" for a, b in zip(edges, edges[1:], strict=False)]
    return [*labels, f"over {plain(bounds[-1])} days"]


@CALCULATORS.register("backlog")
class Backlog(Calculator):
    """Tickets open at the end of the period (created before its end, not solved by then)."""

    name = "backlog"
    Params = BacklogParams
    unit = "count"
    direction = "lower"
    additive = True
    estimate_kind = "count"
    scope = "to_date"
    formula = ("tickets with {created_column} before the period end and {solved_column} blank or "
               "at/after the period end")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Count:
        """Tickets open now (blank solved time), for callers without a period."""
        assert isinstance(params, BacklogParams)
        return Count(float(frame[params.solved_column].isna().sum()), observed=len(frame))

    def estimate_for(self, frame: pd.DataFrame, params: CalculatorParams, period: Period) -> Count:
        assert isinstance(params, BacklogParams)
        still_open, _ = _open_at(frame, params, period)
        return Count(float(still_open.sum()), observed=len(still_open))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, BacklogParams)
        period = history.current
        if period is None or frame.empty:
            return {}
        still_open, created = _open_at(frame, params, period)
        age_days = (pd.Timestamp(period.end_at) - created.loc[still_open]).dt.total_seconds() / 86400
        edges = np.array([0.0, *params.age_buckets_days, np.inf])
        counts = np.histogram(age_days.to_numpy(dtype=float), bins=edges)[0]
        in_period = timestamps(frame, params.created_column, period, params.timezone)
        solved = timestamps(frame, params.solved_column, period, params.timezone)
        start, end = pd.Timestamp(period.start_at), pd.Timestamp(period.end_at)
        created_n = int(((in_period >= start) & (in_period < end)).sum())
        solved_n = int(((solved >= start) & (solved < end)).sum())
        first = history.periods[0] if history.periods else period
        return {
            "age_buckets": [{"bucket": label, "count": int(c)}
                            for label, c in zip(_bucket_labels(params.age_buckets_days), counts,
                                                strict=True)],
            "created": created_n,
            "solved": solved_n,
            "net_flow": created_n - solved_n,
            "seen_since": first.start.isoformat(),
        }
