"""Calibration: how far each auditor's scores sit from the calibrator's on the same tickets.

Rows are one rater's score of one item in one calibration session (``session_id``,
``ticket_id`` and optionally ``category``, ``rater_id``, ``role``).  The reference is the
rater(s) with the reference role; a unit is a session x item.

Break these metrics down by columns every rater shares (session, category, queue); a
breakdown by rater would separate auditors from the reference and leave nothing to
compare.  Per-auditor figures are in ``details["auditors"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from reportgen._lazy import lazy
from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, HistoryFrames
from reportgen.metrics.columns import numeric
from reportgen.metrics.estimates import Mean

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy("numpy")
    pd = lazy("pandas")


class PanelParams(CalculatorParams):
    """Where a calibration table keeps its sessions, items, raters and roles."""

    column_fields: ClassVar[tuple[str, ...]] = (
        "session_column", "item_columns", "rater_column", "role_column")
    session_column: str = Field("session_id", description="Column identifying the calibration session.")
    item_columns: list[str] = Field(default_factory=lambda: ["ticket_id"], description="Columns identifying the rated item within a session (add 'category' for per-category ratings).")
    rater_column: str = Field("rater_id", description="Column identifying the rater.")
    role_column: str = Field("role", description="Column holding each rater's role.")
    reference_role: str = Field("calibrator", description="Role whose ratings are the reference.")


def unit_ids(frame: pd.DataFrame, params: PanelParams) -> pd.Series:
    """An integer id per session x item, aligned with ``frame``."""
    keys = [params.session_column, *params.item_columns]
    return frame.groupby(keys, sort=True, dropna=False).ngroup()


def is_reference(frame: pd.DataFrame, params: PanelParams) -> pd.Series:
    role = frame[params.role_column].astype("string").str.strip().str.lower()
    return (role == params.reference_role.lower()).fillna(False).astype(bool)


class DeviationParams(PanelParams):
    column_fields: ClassVar[tuple[str, ...]] = (*PanelParams.column_fields, "score_column")
    score_column: str = Field("review_score", description="Column holding the rater's score.")
    tolerance: float = Field(5.0, ge=0, description="A deviation at most this far (in score points) counts as within tolerance.")


def deviations(frame: pd.DataFrame, params: DeviationParams) -> pd.DataFrame:
    """One row per auditor score with a reference: auditor, deviation (auditor - reference).

    With several reference raters on a unit, the reference is their mean score.
    """
    score = numeric(frame, params.score_column)
    units = unit_ids(frame, params)
    reference = is_reference(frame, params)
    ref_score = score.loc[reference].groupby(units.loc[reference]).mean()
    auditors = ~reference & score.notna()
    out = pd.DataFrame({
        "auditor": frame.loc[auditors, params.rater_column].astype(str),
        "deviation": score.loc[auditors] - units.loc[auditors].map(ref_score),
    })
    return out.dropna(subset=["deviation"])


@CALCULATORS.register("calibration_deviation")
class CalibrationDeviation(Calculator):
    """Mean absolute deviation of auditors' scores from the calibrator's; lower is better."""

    name = "calibration_deviation"
    Params = DeviationParams
    unit = "score"
    direction = "lower"
    estimate_kind = "mean"
    formula = ("mean over auditor scores of |auditor {score_column} - calibrator {score_column}| "
               "on the same session and item; bias = mean signed deviation; within tolerance = "
               "share with |deviation| <= {tolerance}")

    def estimate(self, frame: pd.DataFrame, params: CalculatorParams) -> Mean:
        assert isinstance(params, DeviationParams)
        return Mean.of(deviations(frame, params)["deviation"].abs().to_numpy(dtype=float))

    def details(self, frame: pd.DataFrame, params: CalculatorParams,
                history: HistoryFrames) -> Mapping[str, Any]:
        assert isinstance(params, DeviationParams)
        table = deviations(frame, params)
        auditors = []
        for auditor, part in table.groupby("auditor", sort=True):
            dev = part["deviation"].to_numpy(dtype=float)
            auditors.append(_summary(dev, params.tolerance) | {"auditor": str(auditor)})
        overall = _summary(table["deviation"].to_numpy(dtype=float), params.tolerance)
        # The metric's own value for each auditor (now, and in the period before), which
        # a breakdown cannot give here: an action scoped to one auditor tracks it.
        scoped = {a["auditor"]: {"value": a["mean_abs_deviation"], "n": a["n"]}
                  for a in auditors if a["n"]}
        previous = history.previous() if history is not None else None
        if previous is not None and history.current is not None and not previous.empty:
            before = deviations(previous, params)
            for auditor, part in before.groupby("auditor", sort=True):
                if str(auditor) in scoped and len(part):
                    scoped[str(auditor)] |= {
                        "previous": float(np.mean(np.abs(part["deviation"].to_numpy(float)))),
                        "previous_period": history.current.previous().key}
        return {
            "auditors": auditors,
            "tolerance": params.tolerance,
            "bias": overall["bias"],
            "within_tolerance": overall["within_tolerance"],
            "scoped": {"auditor": scoped},
        }


def _summary(dev: np.ndarray, tolerance: float) -> dict[str, Any]:
    if not len(dev):
        return {"n": 0, "mean_abs_deviation": None, "bias": None, "within_tolerance": None}
    return {
        "n": int(len(dev)),
        "mean_abs_deviation": float(np.mean(np.abs(dev))),
        "bias": float(np.mean(dev)),
        # A small allowance so a deviation of exactly the tolerance is not lost to rounding.
        "within_tolerance": float(np.mean(np.abs(dev) <= tolerance + 1e-9)),
    }
