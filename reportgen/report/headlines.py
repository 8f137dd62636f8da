"""Which finding each chart's slide title states: the deck's titles are its messages.

Each drawn chart takes the most severe finding about its metric that no earlier chart
took: a finding about one breakdown (``queue = Billing``, ``by channel``) goes to the
chart of that breakdown, an overall finding to a chart of the metric over time only
("CSAT has been off target for 4 quarters" is not what queue bars or a rating mix
draw).  A change of the whole metric on a chart over time also says where it came from
when a shown finding split it (a driver finding: "CSAT fell 2.6 points to 80.0%, most of
it in the Chat channel"); no finding, no cause.

A chart with no such finding states what it draws, from its metric's values: over time,
that the metric held (its change tested and within normal variation); a breakdown's bars,
how many segments are off the target (the bars it highlights), else at risk of missing
it, or without a target which segment is largest, each number as the bar's own label
writes it; a distribution, its best and worst categories' shares.  Only a chart with none
of these keeps its name as its title.  The titles themselves are
written by the text authority (``reportgen.text.headline``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence

from reportgen import text
from reportgen.insights.text import (
    NORMAL_VARIATION,
    REAL_CHANGE,
    REAL_DIFFERENCE,
    breakdown_noun,
    plural_noun,
)
from reportgen.report.model.metric_results import BreakdownRow, MetricResult
from reportgen.report.model.report_model import ReportModel
from reportgen.report.model.sections import Figure, Finding, Section
from reportgen.text.headline import (
    headlines,
    held_headlines,
    leader_headlines,
    mix_cause,
    mix_headlines,
    range_headlines,
    target_headlines,
    with_cause,
    within_cause,
)

#: The test's verdicts a title leaves to the findings it comes from.
VERDICTS = (REAL_CHANGE, REAL_DIFFERENCE, NORMAL_VARIATION)
_OVER_TIME = frozenset({"trend", "control"})


def with_headlines(model: ReportModel) -> ReportModel:
    """``model`` with each figure's ``headlines`` and ``headline_of`` set from its findings."""
    taken: set[int] = set()
    summary = list(model.findings)
    return dataclasses.replace(model, sections=tuple(
        _section(section, [*summary, *section.findings], taken, model.metrics,
                 model.period.label)
        for section in model.sections))


def shown_change(finding: Finding, metrics: Mapping[str, MetricResult]) -> dict[str, float]:
    """The change a reader reads off the finding's two shown values, when it has them."""
    numbers, metric = finding.numbers, metrics.get(finding.metric_id)
    value, previous = numbers.get("value"), numbers.get("previous")
    if metric is None or not isinstance(value, int | float) \
            or not isinstance(previous, int | float):
        return {}
    return {"shown_change": abs(text.shown_difference(value, previous, metric.unit))}


def _section(section: Section, pool: Sequence[Finding], taken: set[int],
             metrics: Mapping[str, MetricResult], period: str) -> Section:
    figures = []
    for figure in section.figures:
        finding = best_finding(figure, pool, taken)
        if finding is None:
            stated, numbers = state_headlines(figure, metrics.get(figure.metric_id))
            figures.append(dataclasses.replace(figure, headlines=stated,
                                               headline_numbers=numbers))
            continue
        taken.add(id(finding))
        found = headlines(finding.sentence, VERDICTS, period)
        cause = change_cause(finding, pool) if figure.kind in _OVER_TIME else ""
        figures.append(dataclasses.replace(
            figure, headlines=with_cause(found, cause) if cause else found,
            headline_of=finding.sentence, headline_numbers=shown_change(finding, metrics)))
    return dataclasses.replace(section, figures=tuple(figures))


def dimension(scope: str) -> str:
    """The breakdown a finding's scope names (``queue`` of ``queue = Billing``), or ""."""
    if " = " in scope:
        return scope.split(" = ", 1)[0].strip()
    return scope[3:].strip() if scope.startswith("by ") else ""


def best_finding(figure: Figure, pool: Iterable[Finding], taken: set[int]) -> Finding | None:
    """The finding ``figure``'s title states, or ``None`` (it keeps its name)."""
    said = f"{figure.title} {figure.caption} {figure.alt_text}".casefold()
    best: tuple[int, int] | None = None
    chosen = None
    for order, finding in enumerate(pool):
        if id(finding) in taken or not figure.metric_id or finding.metric_id != figure.metric_id:
            continue
        if not headlines(finding.sentence, VERDICTS):
            continue
        about = dimension(finding.scope)
        if about:
            if about.casefold() not in said:
                continue  # about another breakdown than the one drawn
            score = 2
        elif figure.kind not in _OVER_TIME:
            continue  # about the whole metric's value, which only a chart over time draws
        else:
            score = 1
        if best is None or (score, -order) > best:
            best, chosen = (score, -order), finding
    return chosen


def state_headlines(figure: Figure, metric: MetricResult | None,
                    ) -> tuple[tuple[str, ...], dict[str, float]]:
    """Titles for a chart no finding is about, from its metric's values and what the chart
    drew (``()`` when they say nothing), and the drawn numbers the titles state."""
    if metric is None or metric.value is None:
        return (), {}
    if figure.kind == "distribution":
        return _mix_state(figure, metric)
    return _value_state(figure, metric), {}


def _mix_state(figure: Figure, metric: MetricResult,
               ) -> tuple[tuple[str, ...], dict[str, float]]:
    """The shares of the best and worst categories in the last period the chart drew."""
    categories = [c for c in figure.data if f"{c} share" in figure.data]  # worst first
    if len(categories) < 2:
        return (), {}
    best, worst = figure.data[f"{categories[-1]} share"], figure.data[f"{categories[0]} share"]
    if not best or not isinstance(best[-1], int | float) or not isinstance(worst[-1], int | float):
        return (), {}
    numbers = {"best_share": float(best[-1]), "worst_share": float(worst[-1])}
    return mix_headlines(metric.label, text.value_label(categories[-1]), numbers["best_share"],
                         text.value_label(categories[0]), numbers["worst_share"]), numbers


def _value_state(figure: Figure, metric: MetricResult) -> tuple[str, ...]:
    assert metric.value is not None
    if figure.kind in _OVER_TIME:
        change = metric.change
        if change is None or not change.test or change.significant \
                or change.previous is None:
            return ()  # untested: "held" would be a claim nobody checked
        return held_headlines(metric.label, metric.value, change.previous, change.against,
                              metric.unit, metric.target)
    by = next((column for column in figure.data if column in metric.breakdowns), None)
    if figure.kind != "bar" or by is None:
        return ()
    rows = [r for r in metric.breakdowns[by] if r.value is not None and not r.suppressed]
    if len(rows) < 2:
        return ()
    places = label_places(figure.native.number_format) if figure.native else None
    if metric.target is not None and metric.direction in ("higher", "lower"):
        return _target_state(metric, by, rows, places)
    ranked = sorted(rows, key=lambda r: (-float(r.value or 0.0), r.label))
    if ranked[0].value == ranked[1].value:
        return ()  # a tie has no leader
    total = metric.value if metric.unit == "count" and abs(
        sum(float(r.value or 0.0) for r in metric.breakdowns[by]) - metric.value) < 0.5 \
        else None  # "of" a total only when the segments make it up
    return leader_headlines(metric.label, text.value_label(ranked[0].label),
                            float(ranked[0].value or 0.0), metric.unit, total, places)


def table_headlines(metric: MetricResult, by: str, rows: Sequence[BreakdownRow],
                    ) -> tuple[tuple[str, ...], dict[str, float]]:
    """Titles of a breakdown's table, from the rows it shows, and the counts they state:
    how many are off the metric's target (else at risk of missing it), naming the furthest,
    as a chart of the breakdown says it; without a target, its highest and lowest rows.
    None (``()``) for fewer than two rows with a value, or a tie for the highest."""
    shown = [r for r in rows if r.value is not None and not r.suppressed]
    if len(shown) < 2:
        return (), {}
    if metric.target is not None and metric.direction in ("higher", "lower"):
        missed = sum(r.status == "off_target" for r in shown) \
            or sum(r.status == "at_risk" for r in shown)
        return (_target_state(metric, by, shown, None, label=metric.label),
                {"segments": float(len(shown)), "missed": float(missed)})
    ranked = sorted(shown, key=lambda r: (-float(r.value or 0.0), r.label))
    if ranked[0].value == ranked[1].value:
        return (), {}  # a tie has no leader
    top, bottom = ((text.value_label(r.label), float(r.value or 0.0))
                   for r in (ranked[0], ranked[-1]))
    stated = range_headlines(metric.label, top, bottom, metric.unit)
    # a tie for the lowest names none of them
    return (stated[1:] if ranked[-1].value == ranked[-2].value else stated), {}


def _target_state(metric: MetricResult, by: str, rows: Sequence[BreakdownRow],
                  places: int | None, label: str = "") -> tuple[str, ...]:
    """How many segments are off the metric's target (the bars the chart highlights), else
    at risk of missing it, the furthest first; ``label`` names the metric in the target."""
    assert metric.target is not None
    higher = metric.direction == "higher"

    def furthest_first(status: str) -> list[tuple[str, float]]:
        named = [(text.value_label(r.label), float(r.value or 0.0)) for r in rows
                 if r.status == status]
        return sorted(named, key=lambda item: (item[1] if higher else -item[1], item[0]))

    return target_headlines(plural_noun(breakdown_noun(by)), len(rows), metric.target,
                            metric.unit, "below" if higher else "above",
                            furthest_first("off_target"), furthest_first("at_risk"), places,
                            label)


def label_places(number_format: str) -> int | None:
    """The decimal places a native chart's number format (``0%``, ``+0.0;"−"0.0``) writes
    its labels with, or ``None`` for ``General``."""
    first = number_format.split(";")[0]
    if "0" not in first:
        return None
    places = re.search(r"\.([0#]+)", first)
    return len(places.group(1)) if places else 0


def change_cause(finding: Finding, pool: Iterable[Finding]) -> str:
    """Where ``finding``'s change of the whole metric came from, as a title's clause, when
    a shown driver finding about the same metric split it; else ""."""
    if finding.scope != "overall" or finding.kind != "significant_change":
        return ""
    delta = finding.numbers.get("delta")
    for driver in pool:
        numbers = driver.numbers
        total, breakdown = numbers.get("total"), str(numbers.get("breakdown") or "")
        if driver.kind != "driver" or driver.metric_id != finding.metric_id \
                or not isinstance(total, int | float) or not isinstance(delta, int | float) \
                or total * delta <= 0 or "," in breakdown:
            continue  # a cross breakdown's cells have no one noun
        noun = breakdown_noun(breakdown)
        if numbers.get("dominant") == "mix":
            return mix_cause(plural_noun(noun))
        parts = {str(c["segment"]): float(c["total"]) for c in numbers.get("contributions", ())}
        leading = [s for s in numbers.get("leading", ()) if s in parts]
        if numbers.get("dominant") != "rate" or not leading or parts[leading[0]] * total <= 0:
            return ""
        return within_cause(text.value_label(leading[0]), noun, parts[leading[0]] / total)
    return ""
