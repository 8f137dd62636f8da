"""Out of control: points a p-chart says are not ordinary variation.

Two signals from ``MetricResult.details["p_chart"]`` (``{"center", "points": [{"label", "p",
"n", "ucl", "lcl", "out_of_control"}]}``, oldest point first):

* a point beyond its control limits (Shewhart's 3-sigma rule);
* a run of at least eight consecutive points on one side of the centre line (Western
  Electric rule 4 / Nelson rule 2): a sustained shift too small for the limits to catch.

A signal on the latest point is a claim about now and is stated as improved or declined
(which side is good follows the metric's direction).  Earlier signals are reported once, as
context, without a direction.  Points on fewer observations than the metric's minimum are
never the basis of a claim.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportgen.insights.context import InsightContext
from reportgen.insights.text import Verdict, join_names, plural, tone_of, value_text
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Finding

#: Nelson rule 2: this many points in a row on one side of the centre line.
RUN_LENGTH = 8


def control_findings(ctx: InsightContext) -> list[Finding]:
    """Signals of every metric that carries a p-chart."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        chart = metric.details.get("p_chart") if metric.details else None
        if not isinstance(chart, Mapping) or chart.get("center") is None:
            continue
        points = [p for p in chart.get("points", ()) if isinstance(p, Mapping)]
        if not points:
            continue
        out += _signals(ctx, metric, float(chart["center"]), points)
    return out


def _usable(point: Mapping[str, Any], min_n: int) -> bool:
    return point.get("p") is not None and int(point.get("n") or 0) >= min_n


def beyond_limits(point: Mapping[str, Any], center: float) -> str | None:
    """``above`` or ``below`` when the point is outside its limits, else None."""
    p, ucl, lcl = point.get("p"), point.get("ucl"), point.get("lcl")
    if p is None:
        return None
    if ucl is not None and p > ucl:
        return "above"
    if lcl is not None and p < lcl:
        return "below"
    if point.get("out_of_control"):  # the chart's own verdict when limits are not given
        return "above" if p > center else "below"
    return None


def runs(points: Sequence[Mapping[str, Any]], center: float,
         min_n: int) -> list[tuple[int, int, str]]:
    """Maximal runs (first index, last index, side) of usable points on one side of the centre.

    A point on the centre line or with too small a sample ends a run.
    """
    found: list[tuple[int, int, str]] = []
    start, side = -1, ""
    for i, point in enumerate([*points, {}]):
        here = ""
        if point and _usable(point, min_n) and point["p"] != center:
            here = "above" if point["p"] > center else "below"
        if here and here == side:
            continue
        if side and i - start >= RUN_LENGTH:
            found.append((start, i - 1, side))
        start, side = i, here
    return found


def _verdict(side: str, metric: MetricResult) -> Verdict:
    good = (side == "above") == (metric.direction == "higher")
    return "improved" if good else "declined"


def _signals(ctx: InsightContext, metric: MetricResult, center: float,
             points: Sequence[Mapping[str, Any]]) -> list[Finding]:
    min_n, unit = ctx.min_n(metric.metric_id), metric.unit
    last = len(points) - 1
    latest = points[last]
    all_runs = runs(points, center, min_n)
    current_run = next((r for r in all_runs if r[1] == last), None)
    outside = beyond_limits(latest, center) if _usable(latest, min_n) else None
    out: list[Finding] = []
    centre_text = value_text(center, unit)
    numbers: dict[str, Any] = {"center": center, "label": latest.get("label"),
                               "p": latest.get("p"), "n": latest.get("n"),
                               "ucl": latest.get("ucl"), "lcl": latest.get("lcl"),
                               "run_length": 0, "rules": [], "significant": False}
    sentence = ""
    side = ""
    if outside is not None:
        side = outside
        limit = latest.get("ucl") if outside == "above" else latest.get("lcl")
        which = "highest" if outside == "above" else "lowest"
        sentence = (f"{metric.label} in {latest.get('label')} ({value_text(latest['p'], unit)}) "
                    f"is {outside} {value_text(limit, unit)}, the {which} that ordinary "
                    f"variation around {centre_text} reaches.")
        numbers["rules"].append("beyond limits")
    if current_run is not None and (not side or current_run[2] == side):
        side = current_run[2]
        length = current_run[1] - current_run[0] + 1
        first = points[current_run[0]].get("label")
        run_text = (f"{side} its usual level ({centre_text}) for {plural(length, 'point')} "
                    f"running, from {first} to {latest.get('label')}: a sustained shift, not "
                    f"ordinary variation.")
        sentence += (f" It has been {run_text}" if sentence
                     else f"{metric.label} has been {run_text}")
        numbers["run_length"] = length
        numbers["rules"].append(f"run of {RUN_LENGTH}")
    if side:
        verdict = _verdict(side, metric)
        numbers["significant"] = True
        out.append(ctx.finding("out_of_control", metric, "overall", sentence, numbers=numbers,
                               direction=verdict, tone=tone_of(verdict), magnitude=1.0))
    history = _history(metric, points[:last], [r for r in all_runs if r[1] != last], center,
                       min_n)
    if history is not None:
        out.append(ctx.finding("control_history", metric, "overall", history[0],
                               numbers=history[1]))
    return out


def _history(metric: MetricResult, earlier: Sequence[Mapping[str, Any]],
             earlier_runs: Sequence[tuple[int, int, str]], center: float,
             min_n: int) -> tuple[str, dict[str, Any]] | None:
    """Signals before the latest point, as context (no direction is claimed)."""
    outside = [p.get("label") for p in earlier
               if _usable(p, min_n) and beyond_limits(p, center)]
    if not outside and not earlier_runs:
        return None
    parts = []
    if outside:
        parts.append(f"{plural(len(outside), 'earlier point')} beyond ordinary variation "
                     f"({join_names([str(label) for label in outside])})")
    if earlier_runs:
        spans = [f"{earlier[a].get('label')} to {earlier[b].get('label')}"
                 for a, b, _ in earlier_runs]
        parts.append(f"{plural(len(earlier_runs), 'earlier run')} of {RUN_LENGTH} or more "
                     f"points on one side of its usual level ({join_names(spans)})")
    sentence = f"{metric.label} had {join_names(parts)} before."
    return sentence, {"center": center, "outside": outside,
                      "runs": [{"from": earlier[a].get("label"), "to": earlier[b].get("label"),
                                "side": side} for a, b, side in earlier_runs]}
