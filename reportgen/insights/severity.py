"""How findings are ranked: one documented impact score, 0-100.

``severity = base(kind) + 25 x magnitude x reach + 5 if bad news + 5 if a headline metric``,
clamped to 0-100, where

* ``base`` says how much a kind of finding matters on its own (table below): a significant
  change of a metric or a process out of control outranks a breakdown detail, and a note
  that nothing changed or that a sample is small sits at the bottom;
* ``magnitude`` (0-1) is the size of the move on the metric's own scale, saturating at
  10 points for rates and 0-100 scores and at a 50% relative change for anything else
  (so a 2-point CSAT drop outranks a 0.5-point one of the same kind).  For a gap to
  target it is the gap; for a streak, the larger of the gap and the streak's length over
  twelve periods; a control-chart signal is 1 (beyond ordinary variation by definition);
  notes with no size (top causes, small samples, no change) have 0;
* ``reach`` (0-1) is the share of the metric's volume the finding is about: 1 for the
  whole metric, a queue's share of responses for a queue; for a significant segment
  change, the share of the overall change that segment's move explains (the 'why');
* bad news (``tone == "bad"``) and the report's headline metrics (the summary KPIs) get a
  small lift so the executive summary leads with what needs attention.

Ties are broken by kind, then metric, then scope, so the order is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from reportgen.report.model.metric_results import Tone

#: The base score of each kind of finding.
BASE: Mapping[str, float] = {
    "significant_change": 50,
    "out_of_control": 45,
    "intervention": 45,
    "segment_change": 40,
    "target_streak": 40,
    "year_over_year": 35,
    "target_breach": 35,
    "driver": 32,
    "cause_growth": 30,
    "calibration_drift": 40,
    "calibration_outlier": 35,
    "top_causes": 20,
    "moderation_quality": 25,
    "audit_skips": 30,
    "audit_mix": 30,
    "audit_shortfall": 20,
    "segments_off_target": 18,
    "intervention_inconclusive": 15,
    "target_at_risk": 15,
    "control_history": 10,
    "small_sample": 8,
    "no_test": 5,
    "no_significant_change": 5,
}

#: Where the magnitude of a move saturates, by unit (absolute for rates and scores).
_FULL_SCALE: Mapping[str, float] = {"percent": 0.10, "points": 0.10, "score": 10.0,
                                    "rating": 1.0}
_RELATIVE_FULL_SCALE = 0.5

#: Tie-break order: kinds earlier in BASE first.
KIND_ORDER: Mapping[str, int] = {kind: i for i, kind in enumerate(BASE)}


def magnitude(delta: float | None, unit: str, reference: float | None = None) -> float:
    """The size of a move on the metric's scale, 0-1 (see the module docstring).

    ``reference`` is the level the move starts from; it scales units without a natural
    full scale (counts, minutes) as a relative change.
    """
    if delta is None or math.isnan(delta):
        return 0.0
    if unit in _FULL_SCALE:
        return min(1.0, abs(delta) / _FULL_SCALE[unit])
    if reference:
        return min(1.0, abs(delta / reference) / _RELATIVE_FULL_SCALE)
    return 0.0


def severity(kind: str, *, magnitude: float = 0.0, reach: float = 1.0, tone: Tone = "neutral",
             headline: bool = False) -> float:
    """The impact score of a finding (see the module docstring for the scheme)."""
    score = BASE.get(kind, 10.0) + 25.0 * max(0.0, min(1.0, magnitude)) \
        * max(0.0, min(1.0, reach))
    if tone == "bad":
        score += 5.0
    if headline:
        score += 5.0
    return round(max(0.0, min(100.0, score)), 2)
