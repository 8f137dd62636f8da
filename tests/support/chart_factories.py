"""Hand-built metric results for chart tests: every number a chart draws is set here."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from reportgen.charts import CHARTS, ChartRequest
from reportgen.report.model.metric_results import BreakdownRow, Interval, MetricResult, PeriodValue
from reportgen.report.model.report_model import Theme
from reportgen.report.model.sections import Figure

MONTHS = tuple(date(2025 + (9 + i) // 12, (9 + i) % 12 + 1, 1) for i in range(13))
CSAT_VALUES = (0.84, 0.85, 0.86, 0.85, 0.84, 0.86, 0.85, 0.87, 0.86, 0.85, 0.86, 0.853, 0.812)


def history(values: tuple[float | None, ...], *, n: int = 400, half_width: float | None = 0.03,
            suppressed: dict[int, str] | None = None) -> tuple[PeriodValue, ...]:
    """One PeriodValue per month, oldest first; ``suppressed`` maps index -> reason."""
    suppressed = suppressed or {}
    points = []
    for index, (start, value) in enumerate(zip(MONTHS[-len(values):], values, strict=True)):
        reason = suppressed.get(index)
        interval = (Interval(value - half_width, value + half_width, 0.95, "Wilson")
                    if value is not None and half_width is not None and reason is None else None)
        points.append(PeriodValue(
            period=f"{start:%Y-%m}", label=f"{start:%b %y}", start=start,
            value=None if reason else value, n=12 if reason else n, interval=interval,
            suppressed=reason))
    return tuple(points)


def row(key: str | tuple[str, ...], value: float | None, n: int, *, numerator: float | None = None,
        half_width: float | None = None, suppressed: str | None = None,
        status: str | None = None) -> BreakdownRow:
    """A breakdown row; a suppressed row carries no value."""
    interval = (Interval(value - half_width, value + half_width, 0.95, "Wilson")
                if half_width and value is not None else None)
    return BreakdownRow(
        key=(key,) if isinstance(key, str) else key, value=None if suppressed else value, n=n,
        numerator=numerator, denominator=n if numerator is not None else None,
        interval=interval, suppressed=suppressed, status=status)  # type: ignore[arg-type]


QUEUE_ROWS = (
    row("Billing", 0.71, 310, half_width=0.05, status="off_target"),
    row("Payments", 0.83, 280, half_width=0.045, status="at_risk"),
    row("Onboarding", 0.88, 150, half_width=0.05, status="on_target"),
    row("Trust & Safety", 0.79, 95, half_width=0.08, status="off_target"),
    row("Legal", 0.5, 4, suppressed="n = 4 < 30"),
)

CHANNELS = ("Email", "Chat", "Phone", "Social")
HEATMAP_VALUES = {
    "Billing": (0.68, 0.74, 0.70, None),
    "Payments": (0.81, 0.86, 0.83, 0.79),
    "Onboarding": (0.90, 0.87, 0.92, 0.85),
    "Trust & Safety": (0.77, 0.80, None, 0.72),
}


def heatmap_rows() -> tuple[BreakdownRow, ...]:
    """Queue x channel cells; None cells are suppressed for small n."""
    rows = []
    for q_index, (queue, values) in enumerate(HEATMAP_VALUES.items()):
        for c_index, (channel, value) in enumerate(zip(CHANNELS, values, strict=True)):
            n = 40 + 17 * q_index + 9 * c_index
            rows.append(row((queue, channel), value if value is not None else 0.5,
                            n if value is not None else 7,
                            suppressed=None if value is not None else "n = 7 < 30"))
    return tuple(rows)


def csat(**changes: object) -> MetricResult:
    """CSAT in percent, higher is better, target 85%, with history and breakdowns."""
    metric = MetricResult(
        metric_id="csat", label="CSAT", calculator="csat", unit="percent", direction="higher",
        value=0.812, n=835, numerator=678, denominator=835,
        interval=Interval(0.784, 0.837, 0.95, "Wilson"), target=0.85, status="off_target",
        breakdowns={"queue": QUEUE_ROWS, "queue,channel": heatmap_rows()},
        history=history(CSAT_VALUES), formula="responses rated 4 or 5 / all responses",
        details={"distribution": distribution_details()},
    )
    return replace(metric, **changes)  # type: ignore[arg-type]


def distribution_details() -> list[dict[str, object]]:
    """Monthly counts of 1-5 ratings, oldest first."""
    entries = []
    for index, start in enumerate(MONTHS):
        shift = index * 3
        counts = {"1": 30 + shift % 7, "2": 22 + shift % 5, "3": 48 - shift % 9,
                  "4": 160 + shift % 11, "5": 520 - shift}
        entries.append({"period": f"{start:%Y-%m}", "label": f"{start:%b %y}", "counts": counts})
    return entries


AGENT_QUEUES = ("Billing", "Payments", "Onboarding", "Trust & Safety")


def agent_rows(grouped: bool) -> tuple[BreakdownRow, ...]:
    """QA scores of 40 agents across four queues; two agents are suppressed."""
    rows = []
    for index in range(40):
        queue = AGENT_QUEUES[index % 4]
        score = 62.0 + (index * 37) % 36 + (4.0 if queue == "Onboarding" else 0.0)
        key = (queue, f"A{index:03d}") if grouped else (f"A{index:03d}",)
        suppressed = "n = 3 < 5" if index in (7, 22) else None
        rows.append(row(key, score, 3 if suppressed else 12 + index % 9, suppressed=suppressed,
                        status="off_target" if score < 80 else "on_target"))
    return tuple(rows)


def qa_score(**changes: object) -> MetricResult:
    """QA score 0-100, higher is better, target 85, with agent breakdowns and calibration."""
    metric = MetricResult(
        metric_id="qa_score", label="QA score", calculator="qa_score", unit="score",
        direction="higher", value=83.4, n=480, target=85.0, status="at_risk",
        breakdowns={"agent_id": agent_rows(False), "queue,agent_id": agent_rows(True)},
        history=history((84.0, 83.5, 85.2, 86.0, 84.8, 83.9, 84.4, 85.1, 86.3, 85.7, 84.9, 84.2,
                         83.4), half_width=1.5),
        details={"auditors": auditors(), "tolerance": 5.0},
    )
    return replace(metric, **changes)  # type: ignore[arg-type]


def auditors() -> list[dict[str, object]]:
    """Six auditors, two of them outside a ±5 point tolerance."""
    return [
        {"auditor": "Dana Whitfield", "n": 40, "mean_abs_deviation": 7.8, "bias": 7.1,
         "within_tolerance": 0.55},
        {"auditor": "Lee Okafor", "n": 38, "mean_abs_deviation": 6.9, "bias": -6.3,
         "within_tolerance": 0.61},
        {"auditor": "Sam Reyes", "n": 42, "mean_abs_deviation": 3.1, "bias": 1.2,
         "within_tolerance": 0.88},
        {"auditor": "Priya Nair", "n": 40, "mean_abs_deviation": 2.4, "bias": -0.8,
         "within_tolerance": 0.93},
        {"auditor": "Jonas Berg", "n": 36, "mean_abs_deviation": 4.2, "bias": 3.9,
         "within_tolerance": 0.79},
        {"auditor": "Mei Chen", "n": 41, "mean_abs_deviation": 3.6, "bias": -2.7,
         "within_tolerance": 0.84},
    ]


REASONS = (("Refund delay", 182), ("Billing error", 121), ("Slow first reply", 64),
           ("Agent knowledge", 38), ("Login problems", 27), ("Shipping damage", 15),
           ("Policy disagreement", 11), ("Other", 9))


def dsat_reasons(**changes: object) -> MetricResult:
    """Dissatisfied responses by reason: counts in ``numerator``, share in ``value``."""
    total = sum(count for _, count in REASONS)
    rows = tuple(row(reason, count / total, total, numerator=count) for reason, count in REASONS)
    rows += (row("Language barrier", 0.0, total, numerator=3, suppressed="n = 3 < 5"),)
    metric = MetricResult(
        metric_id="dsat", label="DSAT", calculator="dsat", unit="percent", direction="lower",
        value=0.188, n=total, numerator=total, denominator=2480, target=0.15,
        breakdowns={"reason": rows},
        details={"p_chart": p_chart()},
        history=history((0.16, 0.15, 0.14, 0.15, 0.16, 0.14, 0.15, 0.13, 0.14, 0.15, 0.14, 0.147,
                         0.188), n=2400, half_width=0.014),
    )
    return replace(metric, **changes)  # type: ignore[arg-type]


def p_chart() -> dict[str, object]:
    """A p-chart of monthly DSAT with two points out of control."""
    center = 0.15
    points = []
    for index, (start, p) in enumerate(zip(MONTHS, (0.16, 0.15, 0.14, 0.15, 0.16, 0.14, 0.15,
                                                     0.118, 0.14, 0.15, 0.14, 0.147, 0.188),
                                           strict=True)):
        n = 2200 + 40 * (index % 5)
        sigma = (center * (1 - center) / n) ** 0.5
        ucl, lcl = center + 3 * sigma, max(center - 3 * sigma, 0.0)
        points.append({"label": f"{start:%b %y}", "p": p, "n": n, "ucl": ucl, "lcl": lcl,
                       "out_of_control": not lcl <= p <= ucl})
    return {"center": center, "points": points}


def request(*metrics: MetricResult, chart_id: str = "chart", title: str = "Chart",
            theme: Theme | None = None) -> ChartRequest:
    """A chart request for October 2026."""
    return ChartRequest(id=chart_id, title=title, metrics=tuple(metrics),
                        theme=theme or Theme(), period_label="October 2026")


def weekly_p_chart(weeks: int = 60, *, last_n: int | None = None) -> dict[str, object]:
    """A weekly p-chart of ``weeks`` points at n ~ 2,000; ``last_n`` makes the last week thin
    (a week the window cuts in two)."""
    center = 0.15
    points = []
    for index in range(weeks):
        n = last_n if last_n is not None and index == weeks - 1 else 2000 + 30 * (index % 4)
        sigma = (center * (1 - center) / n) ** 0.5
        p = center + (0.004 if index % 3 else -0.003)
        ucl, lcl = center + 3 * sigma, max(center - 3 * sigma, 0.0)
        points.append({"label": f"Wk {index + 1}", "p": p, "n": n, "ucl": ucl, "lcl": lcl,
                       "out_of_control": not lcl <= p <= ucl})
    return {"center": center, "points": points}


def metric(metric_id: str, label: str, unit: str, values: tuple[float | None, ...], *,
           target: float | None = None, half_width: float | None = None,
           direction: str = "higher") -> MetricResult:
    """A metric with only a history: enough for a trend chart."""
    return MetricResult(
        metric_id=metric_id, label=label, calculator=metric_id, unit=unit,  # type: ignore[arg-type]
        direction=direction, value=values[-1], n=400, target=target,  # type: ignore[arg-type]
        history=history(values, half_width=half_width))


def empty(metric_id: str = "csat", label: str = "CSAT") -> MetricResult:
    """A metric whose source had no rows in the period: no value, no breakdowns, no details."""
    return MetricResult(metric_id=metric_id, label=label, calculator=metric_id, unit="percent",
                        direction="higher", value=None, n=0)


def build(kind: str, request: ChartRequest, params: dict[str, Any]) -> Figure:
    """The chart as a run draws it: the registered builder, with ``params`` validated by its
    ``Params`` (pydantic's ValidationError when they are wrong), as ``resolve`` does."""
    builder = CHARTS.instance(kind)
    return builder.build(request, builder.Params.model_validate(params))
