"""Hand-built report models for renderer tests (no pipeline involved)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from reportgen.report.model.metric_results import (
    BreakdownRow,
    Change,
    Interval,
    MetricResult,
    PeriodValue,
)
from reportgen.report.model.report_model import MethodNote, PeriodInfo, Provenance, ReportModel
from reportgen.report.model.sections import (
    Cell,
    Column,
    Figure,
    Finding,
    Kpi,
    NativeChart,
    Section,
    Series,
    Table,
)

MONTHS = [date(2025, 10 + i, 1) if i < 3 else date(2026, i - 2, 1) for i in range(13)]


def _history(values: list[float], n: int = 400) -> tuple[PeriodValue, ...]:
    return tuple(
        PeriodValue(
            period=f"{d:%Y-%m}",
            label=f"{d:%b %y}",
            start=d,
            value=v,
            n=n,
            interval=Interval(v - 0.03, v + 0.03, 0.95, "Wilson"),
        )
        for d, v in zip(MONTHS, values, strict=True)
    )


def sample_metric(metric_id: str = "csat", label: str = "CSAT", value: float = 0.812,
                  previous: float = 0.853, target: float = 0.85) -> MetricResult:
    values = [0.84, 0.85, 0.86, 0.85, 0.84, 0.86, 0.85, 0.87, 0.86, 0.85, 0.86, previous, value]
    rows = tuple(
        BreakdownRow(key=(q,), value=v, n=n, numerator=round(v * n), denominator=n,
                     interval=Interval(v - 0.05, v + 0.05, 0.95, "Wilson"))
        for q, v, n in [("Billing", 0.71, 310), ("Payments", 0.83, 280), ("Onboarding", 0.88, 150),
                        ("Trust & Safety", 0.79, 95)]
    )
    return MetricResult(
        metric_id=metric_id, label=label, calculator="csat", unit="percent", direction="higher",
        value=value, n=835, numerator=678, denominator=835,
        interval=Interval(0.784, 0.837, 0.95, "Wilson"),
        change=Change(previous=previous, previous_n=802, delta=value - previous,
                      test="two-proportion z-test", statistic=-2.21, p_value=0.027,
                      significant=True, alpha=0.05),
        target=target, status="off_target", breakdowns={"queue": rows},
        history=_history(values), formula="responses rated 4 or 5 / all responses",
    )


def sample_kpi(metric: MetricResult | None = None) -> Kpi:
    metric = metric or sample_metric()
    return Kpi(metric=metric, value_text="81.2%", delta_text="−4.1 pts", interval_text="78.4–83.7%",
               n_text="n = 835", target_text="Target 85.0%", status_text="Off target",
               delta_tone="bad", arrow="down", significance_text="significant (p = 0.027)",
               status_tone="bad", status_colour="#C0392B", delta_colour="#C0392B")


def sample_figure(fig_id: str = "csat_trend", title: str = "CSAT, last 13 months") -> Figure:
    fig, ax = plt.subplots(figsize=(7, 3.2))
    xs = [f"{d:%b %y}" for d in MONTHS]
    ys = [p.value for p in sample_metric().history]
    ax.plot(xs, ys, marker="o")
    ax.tick_params(axis="x", labelsize=7)
    svg_buf, png_buf = io.StringIO(), io.BytesIO()
    fig.savefig(svg_buf, format="svg")
    fig.savefig(png_buf, format="png", dpi=200)
    plt.close(fig)
    return Figure(
        id=fig_id, title=title, kind="trend", svg=svg_buf.getvalue(), png=png_buf.getvalue(),
        alt_text="Line chart of monthly CSAT from Oct 2025 to Oct 2026; it fell to 81.2% in October.",
        data={"period": tuple(xs), "value": tuple(ys)},
        native=NativeChart(chart_type="line", categories=tuple(xs),
                           series=(Series("CSAT", tuple(ys)),), number_format="0%"),
    )


def sample_table(rows: int = 6) -> Table:
    queues = [f"Queue {i + 1}" for i in range(rows)]
    return Table(
        id="csat_by_queue", title="CSAT by queue",
        columns=(Column("queue", "Queue"), Column("value", "CSAT", "right"),
                 Column("delta", "Change", "right"), Column("n", "n", "right")),
        rows=tuple((Cell(q), Cell(f"{80 + i % 7}.0%", 0.8 + (i % 7) / 100),
                    Cell(f"+{i % 3}.0 pts", tone="good"), Cell(f"{100 + i}", 100 + i))
                   for i, q in enumerate(queues)),
        note="Rows with n < 30 are suppressed.",
    )


def sample_model(table_rows: int = 6, sections: int = 2) -> ReportModel:
    kpi = sample_kpi()
    finding = Finding(kind="significant_change", metric_id="csat", scope="Billing",
                      sentence="CSAT in Billing fell 9.8 points to 71.0% (p < 0.001).",
                      severity=0.9, numbers={"delta": -0.098, "p_value": 0.0004},
                      direction="declined", tone="bad")
    built = [
        Section(id=f"section{i}", title=title, intro="How customers rated their support.",
                kpis=(kpi,), figures=(sample_figure(f"fig{i}"),), tables=(sample_table(table_rows),),
                findings=(finding,), notes=("Survey responses are attributed to the solving agent.",))
        for i, title in enumerate(["Voice of the customer", "QA audits", "Operations",
                                   "Calibration"][:sections])
    ]
    return ReportModel(
        report_id="mqr", title="Monthly Quality Report", organisation="Acme Support",
        period=PeriodInfo(key="2026-10", label="October 2026", grain="month",
                          start=date(2026, 10, 1), end=date(2026, 11, 1),
                          timezone="Europe/Berlin", date_range="1 Oct 2026 – 31 Oct 2026",
                          previous_label="September 2026"),
        generated_at=datetime(2026, 11, 2, 7, 0, tzinfo=UTC),
        summary_kpis=(kpi,), findings=(finding,), sections=tuple(built),
        methodology=(MethodNote(metric_id="csat", label="CSAT",
                                formula="responses rated 4 or 5 / all responses",
                                test="Wilson 95% interval; two-proportion z-test vs previous month",
                                n_text="n = 835", suppressed=("Queue 'Legal': n = 4 < 30",)),),
        provenance=Provenance(definition_hash="abc123", input_hashes={"csat": "def456"},
                              row_counts={"csat": 835}, code_version="0.1.0", period="2026-10",
                              generated_at=datetime(2026, 11, 2, 7, 0, tzinfo=UTC)),
        owner="qa-lead@example.com", metrics={"csat": kpi.metric},
    )
