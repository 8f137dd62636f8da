"""Which finding each chart's slide title states: the deck's titles are its messages.

Each drawn chart takes the most severe finding about its metric that no earlier chart
took: a finding about one breakdown (``queue = Billing``, ``by channel``) goes to the
chart of that breakdown, an overall finding to the chart over time first.  A chart with
no such finding keeps its name as its title.  The titles themselves are cut from the
finding's sentence by the text authority (``reportgen.text.headline``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from reportgen import text
from reportgen.insights.text import NORMAL_VARIATION, REAL_CHANGE, REAL_DIFFERENCE
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.report_model import ReportModel
from reportgen.report.model.sections import Figure, Finding, Section
from reportgen.text.headline import headlines

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
            figures.append(figure)
            continue
        taken.add(id(finding))
        figures.append(dataclasses.replace(
            figure, headlines=headlines(finding.sentence, VERDICTS, period),
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
        else:
            score = 1 if figure.kind in _OVER_TIME else 0
        if best is None or (score, -order) > best:
            best, chosen = (score, -order), finding
    return chosen
