"""Why a rate changed: a shift in volume between segments (mix) or the segments themselves (rate).

The split itself (symmetric for one breakdown, Shapley values over the factors of a cross
breakdown) is ``decomposition``'s; this module finds the segments and writes the findings.

The segments come from the metric's breakdown rows; whatever the rows cannot account for
(segments withheld for a small sample, segments present only last period) is recovered
from the metric's totals as one "other segments" remainder, so the parts always add up to
the change the KPI shows.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportgen import text
from reportgen.errors import ReportgenError
from reportgen.insights.context import InsightContext
from reportgen.insights.decomposition import (
    Cell,
    Decomposition,
    FactorSplit,
    Segment,
    decompose,
    shapley_split,
)
from reportgen.insights.severity import magnitude
from reportgen.insights.text import (
    breakdown_noun,
    delta_text,
    goodness,
    join_names,
    movement,
    plural_noun,
    share_text,
    signed_delta_text,
    tone_of,
)
from reportgen.metrics.base import calculator
from reportgen.report.model.metric_results import BreakdownRow, MetricResult
from reportgen.report.model.sections import Finding

OTHER = "other segments"
#: Estimates that are a volume-weighted average of their segments' values.
_AVERAGES = frozenset({"proportion", "mean", "net_score"})
_EPS = 1e-9


def _is_average(metric: MetricResult) -> bool:
    """Whether the overall value is the volume-weighted average of the segments' values."""
    try:
        kind = getattr(calculator(metric.calculator), "estimate_kind", "")
    except ReportgenError:  # a result whose calculator is not registered here
        kind = ""
    if kind:
        return kind in _AVERAGES
    return metric.numerator is not None and metric.denominator is not None


def _weight(n: int, denominator: float | None) -> float | None:
    """The segment's volume; None when the denominator is not the sample (no prior to match)."""
    if denominator is None:
        return float(n)
    return float(denominator) if abs(denominator - n) < 0.5 + _EPS else None


def segments_of(metric: MetricResult, rows: Sequence[BreakdownRow]) -> list[Segment] | None:
    """The metric's segments in both periods, with an exact 'other segments' remainder.

    None when the breakdown cannot be split (not an average, not a partition of the
    volume, or the previous period unknown).
    """
    change = metric.change
    if (change is None or change.previous is None or metric.suppressed is not None
            or metric.value is None or not _is_average(metric)):
        return None
    weight_now = _weight(metric.n, metric.denominator)
    if weight_now is None or change.previous_n <= 0:
        return None
    total_now = (metric.numerator if metric.numerator is not None and metric.denominator
                 is not None else metric.value * weight_now)
    weight_before = float(change.previous_n)
    total_before = change.previous * weight_before

    known: list[Segment] = []
    for row in rows:
        segment = _row_segment(row)
        if segment is not None:
            known.append(segment)
    rest = Segment(
        OTHER,
        weight_now - sum(s.weight_now for s in known),
        total_now - sum(s.total_now for s in known),
        weight_before - sum(s.weight_before for s in known),
        total_before - sum(s.total_before for s in known))
    if rest.weight_now < -_EPS or rest.weight_before < -_EPS:
        return None  # rows overlap (one item in several segments): not a partition
    if rest.weight_now > _EPS or rest.weight_before > _EPS:
        known.append(Segment(OTHER, max(rest.weight_now, 0.0),
                             rest.total_now if rest.weight_now > _EPS else 0.0,
                             max(rest.weight_before, 0.0),
                             rest.total_before if rest.weight_before > _EPS else 0.0))
    return known


def _row_segment(row: BreakdownRow) -> Segment | None:
    """A row with both periods known, or None (it then belongs to the remainder)."""
    weight_now = _weight(row.n, row.denominator)
    if weight_now is None:
        return None
    if row.numerator is not None and row.denominator is not None:
        total_now = float(row.numerator)
    elif row.value is not None:
        total_now = row.value * weight_now
    else:
        return None  # withheld average: its sum is unknown
    if row.change is None:  # absent last period
        return Segment(row.label, weight_now, total_now, 0.0, 0.0)
    if row.change.previous is None:
        return None
    weight_before = float(row.change.previous_n)
    return Segment(row.label, weight_now, total_now, weight_before,
                   row.change.previous * weight_before)


def driver_findings(ctx: InsightContext) -> list[Finding]:
    """For every significant change of an average, the mix/rate split by each breakdown."""
    out: list[Finding] = []
    for metric in ctx.metrics.values():
        if metric.change is None or not metric.change.significant:
            continue  # only a change the data supports is worth explaining
        # One split per single-column breakdown; a cross breakdown only when it is all
        # there is (its cells repeat the story the single columns tell).
        single = [b for b in metric.breakdowns if "," not in b]
        for breakdown in single or list(metric.breakdowns):
            rows = metric.breakdowns[breakdown]
            segments = segments_of(metric, rows)
            if segments is None or len(segments) < 2:
                continue
            shown = {row.label for row in rows if row.suppressed is None}
            factors = breakdown.split(",")
            cells = _cells(segments, len(factors))
            try:
                if len(factors) > 1 and cells is not None:
                    out.append(_factor_finding(ctx, metric, factors,
                                               shapley_split(cells, factors), shown))
                else:
                    out.append(_finding(ctx, metric, breakdown, decompose(segments), shown))
            except ValueError:
                continue
    return out


def _cells(segments: Sequence[Segment], width: int) -> list[Cell] | None:
    """The segments of a cross breakdown as cells keyed by one level per factor."""
    cells = []
    for s in segments:
        key = (OTHER,) * width if s.label == OTHER else tuple(s.label.split(" / "))
        if len(key) != width:
            return None  # a level's own text holds the separator: keys cannot be recovered
        cells.append(Cell(key, s.weight_now, s.total_now, s.weight_before, s.total_before))
    return cells


def _factor_finding(ctx: InsightContext, metric: MetricResult, factors: Sequence[str],
                    split: FactorSplit, shown: set[str]) -> Finding:
    """A change split over the factors of a cross breakdown (Shapley values)."""
    unit, total = metric.unit, split.total
    shown_total = text.shown_difference(split.now, split.before, unit)  # as _finding's
    parts = [(f"the mix of {plural_noun(breakdown_noun(f))}", split.mix[f]) for f in factors]
    parts.append((f"how {join_names([plural_noun(breakdown_noun(f)) for f in factors])} "
                  f"combine", split.association))
    parts.append(("changes within each combination", split.rate))
    ranked = sorted(parts, key=lambda item: -abs(item[1]))
    ranked = list(zip([name for name, _ in ranked],
                      text.shown_parts(shown_total, [value for _, value in ranked], unit),
                      strict=True))
    leading = sorted((c for c in split.cells if " / ".join(c[0]) in shown
                      and (c[1] + c[2]) * total > 0), key=lambda c: -abs(c[1] + c[2]))[:3]
    names = join_names([f"{' / '.join(key)} ({signed_delta_text(mix + rate, unit)}: "
                        f"{share_text(abs(mix) / (abs(mix) + abs(rate) or 1.0))} mix)"
                        for key, mix, rate in leading])
    sentence = (f"{metric.label} {movement(total)} {delta_text(shown_total, unit)}. Of the change, "
                + join_names([f"{name} accounts for {signed_delta_text(value, unit)}"
                              for name, value in ranked])
                + (f"; largest contributions: {names}." if names else "."))
    verdict = goodness(total, metric.direction)
    mix_total = sum(split.mix.values()) + split.association
    numbers = {
        "breakdown": ",".join(factors), "total": total, "shown_total": shown_total,
        "mix": mix_total, "rate": split.rate,
        "mix_by_factor": dict(split.mix), "association": split.association,
        "value": split.now, "previous": split.before,
        "method": "Shapley split over factors (marginal mix of each factor, association, rate)",
        "dominant": "mix" if abs(mix_total) >= 2 * abs(split.rate) else
                    "rate" if abs(split.rate) >= 2 * abs(mix_total) else "both",
        "contributions": [{"segment": " / ".join(key), "mix": mix, "rate": rate,
                           "total": mix + rate} for key, mix, rate in split.cells],
        "leading": [" / ".join(key) for key, _, _ in leading], "significant": True,
    }
    return ctx.finding("driver", metric, f"by {','.join(factors)}", sentence, numbers=numbers,
                       direction=verdict, tone=tone_of(verdict),
                       magnitude=magnitude(total, unit, split.before))


def _finding(ctx: InsightContext, metric: MetricResult, breakdown: str, split: Decomposition,
             shown: set[str]) -> Finding:
    unit, noun = metric.unit, plural_noun(breakdown_noun(breakdown))
    total = split.total
    mix_share = abs(split.mix) / (abs(split.mix) + abs(split.rate) or 1.0)
    if mix_share >= 2 / 3:
        dominant, summary = "mix", f"mostly a shift in volume between {noun}"
    elif mix_share <= 1 / 3:
        dominant, summary = "rate", f"mostly changes within {noun}"
    else:
        dominant, summary = "both", (f"partly a shift in volume between {noun}, partly changes "
                                     f"within them")
    # Name the segments that moved the total most in the direction it moved.
    leading = sorted((c for c in split.contributions if c.label in shown and c.total * total > 0),
                     key=lambda c: -abs(c.total))[:3]
    names = join_names([f"{c.label} ({signed_delta_text(c.total, unit)})" for c in leading])
    # The change as the KPI's two shown values give it (80.0% from 82.6% fell 2.6 points,
    # whatever the unrounded gap), the sentence beside this one says the same; the parts
    # add up to it as shown.
    shown_total = text.shown_difference(split.now, split.before, unit)
    mix, rate = text.shown_parts(shown_total, [split.mix, split.rate], unit)
    sentence = (
        f"{metric.label} {movement(total)} {delta_text(shown_total, unit)}: {summary}. "
        f"The mix of volume across {noun} accounts for "
        f"{signed_delta_text(mix, unit)} and changes within them for "
        f"{signed_delta_text(rate, unit)}"
        + (f"; largest contributions: {names}." if names else "."))
    verdict = goodness(total, metric.direction)
    numbers = {
        "breakdown": breakdown, "total": total, "shown_total": shown_total, "mix": split.mix,
        "rate": split.rate, "dominant": dominant, "value": split.now, "previous": split.before,
        "method": "symmetric (Shapley) mix/rate decomposition",
        "contributions": [
            {"segment": c.label, "mix": c.mix, "rate": c.rate, "total": c.total,
             "share_now": c.share_now, "share_before": c.share_before,
             "value_now": c.value_now, "value_before": c.value_before}
            for c in split.contributions],
        "leading": [c.label for c in leading], "significant": True,
    }
    return ctx.finding("driver", metric, f"by {breakdown}", sentence, numbers=numbers,
                       direction=verdict, tone=tone_of(verdict),
                       magnitude=magnitude(total, unit, split.before))
