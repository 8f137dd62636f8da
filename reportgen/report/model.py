"""The computed report: frozen values that every renderer receives.

Everything a reader sees is decided here, including the display strings, so the PDF and
the PPTX can only ever show the same numbers.  Renderers place these values; they never
compute or re-format a number themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

Status = Literal["on_target", "at_risk", "off_target"]
Direction = Literal["higher", "lower"]
Unit = Literal["percent", "score", "count", "minutes", "hours", "seconds", "number", "ratio"]
Tone = Literal["good", "bad", "neutral", "warning"]

#: the method of an "interval" of a sample whose values were all equal
ALL_EQUAL = "all values equal"


@dataclass(frozen=True)
class Interval:
    """A confidence interval for a value.  ``method == ALL_EQUAL``: every value of the
    sample was the same, so there is no spread to make an interval of (it is not a
    zero-width interval, and outputs say so in words)."""

    low: float
    high: float
    level: float
    method: str


@dataclass(frozen=True)
class Change:
    """The change of a value against a comparison period, with its significance test."""

    previous: float | None
    previous_n: int
    delta: float | None
    test: str | None
    statistic: float | None
    p_value: float | None
    significant: bool
    alpha: float
    against: str = "previous period"


@dataclass(frozen=True)
class PeriodValue:
    """A metric's value in one period of its history (for trends and control charts)."""

    period: str
    label: str
    start: date
    value: float | None
    n: int
    interval: Interval | None = None
    numerator: float | None = None
    denominator: float | None = None
    suppressed: str | None = None


@dataclass(frozen=True)
class BreakdownRow:
    """The metric for one segment of a breakdown (one queue, one channel...)."""

    key: tuple[str, ...]
    value: float | None
    n: int
    numerator: float | None = None
    denominator: float | None = None
    interval: Interval | None = None
    change: Change | None = None
    status: Status | None = None
    suppressed: str | None = None

    @property
    def label(self) -> str:
        return " / ".join(self.key)


@dataclass(frozen=True)
class LeftOut:
    """Values of the report period a metric's calculator left out for one reason, e.g.
    12 ratings outside 1 to 5 (they are not in ``n``; the data-quality note tells them)."""

    reason: str
    noun: str  # one value, as a reader calls it: "rating", "negative duration"
    qualifier: str  # what sets them apart: "outside 1 to 5", "in 'handle_minutes'"
    count: int


@dataclass(frozen=True)
class MetricResult:
    """A metric with its statistical context, for the report period."""

    metric_id: str
    label: str
    calculator: str
    unit: Unit
    direction: Direction
    value: float | None
    n: int
    numerator: float | None = None
    denominator: float | None = None
    interval: Interval | None = None
    change: Change | None = None
    year_over_year: Change | None = None
    target: float | None = None
    status: Status | None = None
    suppressed: str | None = None
    breakdowns: Mapping[str, tuple[BreakdownRow, ...]] = field(default_factory=dict)
    history: tuple[PeriodValue, ...] = ()
    formula: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    #: the values of the report period the calculator left out, per reason (none: ())
    left_out: tuple[LeftOut, ...] = ()

    # Convenience views on the change, under the names analysts use for them.
    @property
    def previous(self) -> float | None:
        return self.change.previous if self.change else None

    @property
    def delta(self) -> float | None:
        return self.change.delta if self.change else None

    @property
    def p_value(self) -> float | None:
        return self.change.p_value if self.change else None

    @property
    def significant(self) -> bool:
        return bool(self.change and self.change.significant)

    @property
    def has_value(self) -> bool:
        return self.value is not None and self.suppressed is None


@dataclass(frozen=True)
class Kpi:
    """A metric as a tile or scorecard row: the result plus its display strings."""

    metric: MetricResult
    value_text: str
    delta_text: str
    interval_text: str
    n_text: str
    target_text: str
    status_text: str
    delta_tone: Tone
    arrow: Literal["up", "down", "flat", ""]
    significance_text: str
    #: The test behind ``significance_text`` (``p = 0.024``), for notes and the methodology;
    #: the tile itself says it in plain words.
    significance_detail: str = ""
    #: The status's tone and colour and the change's colour, from the one palette
    #: (reportgen.text.status), so every output colours a KPI the same way.
    status_tone: Tone = "neutral"
    status_colour: str = ""
    delta_colour: str = ""


@dataclass(frozen=True)
class Cell:
    """One table cell: display text, the raw value it shows, and an optional tone."""

    text: str
    value: float | str | None = None
    tone: Tone | None = None


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    align: Literal["left", "right", "center"] = "left"
    #: The unit of the column's cell values (for typed cells in the workbook).
    unit: Unit | None = None


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Series:
    """One series of a native chart.

    ``role`` says how it is drawn: ``data`` in the chart's own type, ``target`` as a
    dashed line on the value axis, ``cumulative`` as a line on a secondary 0-100% axis and
    ``threshold`` as a dashed line on that secondary axis.  ``low``/``high`` are interval
    bounds drawn as error bars; ``highlight`` lists the points drawn in the alert colour.
    """

    name: str
    values: tuple[float | None, ...]
    role: Literal["data", "target", "cumulative", "threshold"] = "data"
    low: tuple[float | None, ...] = ()
    high: tuple[float | None, ...] = ()
    highlight: tuple[int, ...] = ()
    # Hex colours; empty means the theme's (palette for data, alert colour for highlights).
    colour: str = ""
    highlight_colour: str = ""


@dataclass(frozen=True)
class NativeChart:
    """What an editable PowerPoint chart needs: categories and series, already computed."""

    chart_type: Literal["line", "bar", "column", "stacked_column", "stacked_bar", "percent_stacked_column"]
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    number_format: str = "General"
    value_axis_title: str = ""
    y_min: float | None = None
    y_max: float | None = None
    # The caption of this drawing when it differs from the figure's (it names only what
    # the native chart holds); empty means the figure's caption applies as it is.
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    """A drawn chart: SVG for the PDF, PNG for slides, alt text, and the data it drew."""

    id: str
    title: str
    kind: str
    svg: str
    png: bytes
    alt_text: str
    data: Mapping[str, tuple[Any, ...]]
    caption: str = ""
    native: NativeChart | None = None
    width_in: float = 7.0
    height_in: float = 3.2
    #: The unit of the chart's primary metric (set at assembly; types the workbook's cells).
    unit: Unit | None = None


@dataclass(frozen=True)
class Finding:
    """A deterministic statement about the data, with the numbers behind it."""

    kind: str
    metric_id: str
    scope: str
    sentence: str
    severity: float
    numbers: Mapping[str, Any] = field(default_factory=dict)
    direction: Literal["improved", "declined", "none"] | None = None
    tone: Tone = "neutral"
    #: How a reader names the scope (``Billing queue``); empty for the metric as a whole.
    tag: str = ""
    #: The statistical detail taken out of the sentence (``p = 0.024``) and its note number
    #: in the methodology appendix (0 when the finding has none).
    detail: str = ""
    note: int = 0


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str = ""
    kpis: tuple[Kpi, ...] = ()
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    #: One sentence naming the section's metrics that did not move beyond normal variation.
    steady_text: str = ""


@dataclass(frozen=True)
class StatNote:
    """A numbered statistical note: the test behind a finding, printed in the appendix."""

    number: int
    label: str
    detail: str


@dataclass(frozen=True)
class ActionItem:
    """One action of the register, with every string a reader sees for it."""

    id: str
    finding: str
    metric_id: str
    action: str
    owner: str
    due_text: str
    status: Literal["open", "done", "dropped"]
    status_text: str
    overdue: bool
    kpi_label: str
    target_text: str
    movement_text: str
    #: good when the KPI moved toward its target since the action started, bad when away.
    tone: Tone = "neutral"
    on_target: bool | None = None
    #: the segment the action is about, as findings state it (``queue = Onboarding``)
    scope: str = ""


@dataclass(frozen=True)
class ActionRegister:
    """The action register for the period: what is being done about the findings, by whom."""

    items: tuple[ActionItem, ...] = ()
    #: Bad-news findings no action answers yet, by metric and scope (``QA score (By queue)``).
    unowned: tuple[str, ...] = ()
    source: str = ""

    @property
    def open(self) -> tuple[ActionItem, ...]:
        return tuple(i for i in self.items if i.status == "open")


@dataclass(frozen=True)
class ReadoutItem:
    """One line of a readout slide, with the tone its bullet is drawn in."""

    text: str
    tone: Tone = "neutral"


@dataclass(frozen=True)
class Readout:
    """What a business review asks of a period: wins, risks, initiatives and asks."""

    wins: tuple[ReadoutItem, ...] = ()
    risks: tuple[ReadoutItem, ...] = ()
    initiatives: tuple[ReadoutItem, ...] = ()
    asks: tuple[ReadoutItem, ...] = ()


@dataclass(frozen=True)
class PeriodInfo:
    key: str
    label: str
    grain: str
    start: date
    end: date
    timezone: str
    date_range: str
    previous_label: str


@dataclass(frozen=True)
class MethodNote:
    """One methodology entry: how a metric is defined and tested, its n, what was suppressed."""

    metric_id: str
    label: str
    formula: str
    test: str
    n_text: str
    suppressed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Provenance:
    definition_hash: str
    input_hashes: Mapping[str, str]
    row_counts: Mapping[str, int]
    code_version: str
    period: str
    generated_at: datetime
    #: The row counts as text (``12,345``), for the documents that show them.
    row_count_texts: Mapping[str, str] = field(default_factory=dict)
    #: What reading the data dropped or read as empty, one sentence per source and reason.
    data_quality: tuple[str, ...] = ()

    @property
    def quality_lines(self) -> tuple[str, ...]:
        """The data-quality notes as every output shows them (one line when all is clean)."""
        return self.data_quality or (ALL_ROWS_USED,)


#: The data-quality note of a report that dropped, blanked and left out nothing.
ALL_ROWS_USED = ("Every row read was used: none was dropped, and no value was read as blank "
                 "or left out.")


@dataclass(frozen=True)
class Theme:
    """Colours and fonts, from the definition; renderers and charts read them from here."""

    primary: str = "#1F3A5F"
    accent: str = "#2A9D8F"
    good: str = "#1A7F4B"
    bad: str = "#C0392B"
    warning: str = "#B7791F"
    neutral: str = "#5F6B7A"
    palette: tuple[str, ...] = (
        "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
    )
    font_family: str = "Inter"


@dataclass(frozen=True)
class ReportModel:
    """Everything a renderer needs, computed once."""

    report_id: str
    title: str
    organisation: str
    period: PeriodInfo
    generated_at: datetime
    summary_kpis: tuple[Kpi, ...]
    findings: tuple[Finding, ...]
    sections: tuple[Section, ...]
    methodology: tuple[MethodNote, ...]
    provenance: Provenance
    theme: Theme = Theme()
    subtitle: str = ""
    owner: str = ""
    warnings: tuple[str, ...] = ()
    metrics: Mapping[str, MetricResult] = field(default_factory=dict)
    #: The locale every string in the model was written in, and the generation time as text.
    locale: str = "en"
    generated_text: str = ""
    #: Statistical notes the findings point to (printed in the appendix).
    stat_notes: tuple[StatNote, ...] = ()
    #: The headline metrics that held within normal variation, said when no finding stands out.
    steady_text: str = ""
    actions: ActionRegister | None = None
    readout: Readout | None = None
    #: Numbers of this period already sent that this report states differently, in words
    #: ("Restated: September 2026 CSAT was 78.2% (sent 2 Oct 2026), now 83.0%. ...").
    restatements: tuple[str, ...] = ()

    def kpi_texts(self) -> list[str]:
        """Every value string shown for a KPI (what a reader must find in any output)."""
        texts: list[str] = []
        for kpi in self.summary_kpis:
            texts.append(kpi.value_text)
        for section in self.sections:
            texts.extend(k.value_text for k in section.kpis)
        return texts


@dataclass(frozen=True)
class Artifact:
    """A rendered file, written atomically."""

    format: str
    path: str
    size: int
    sha256: str
