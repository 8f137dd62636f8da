"""What a section of the report shows: KPI tiles, tables, figures (with the series of a native
chart) and findings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reportgen.report.model.metric_results import Interval, MetricResult, Tone, Unit
from reportgen.report.model.scorecard import Sparkline


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
    #: A score's scale and its good end (``on a 1–7 scale, higher is easier``); empty for
    #: rates, counts and durations, whose unit says it.
    scale_text: str = ""
    #: The test behind ``significance_text`` (``p = 0.024``), for notes and the methodology;
    #: the tile itself says it in plain words.
    significance_detail: str = ""
    #: The status's tone and colour and the change's colour, from the one palette
    #: (reportgen.text.status), so every output colours a KPI the same way.
    status_tone: Tone = "neutral"
    status_colour: str = ""
    delta_colour: str = ""
    #: The metric's history as a small line (the executive summary's tiles); None elsewhere.
    sparkline: Sparkline | None = None
    #: The change ``delta_text`` states: the difference of the value and the previous value
    #: as shown (``text.shown_difference``), as findings state it.
    shown_delta: float | None = None


@dataclass(frozen=True)
class Cell:
    """One table cell: display text, the raw value it shows, and an optional tone."""

    text: str
    value: float | str | None = None
    tone: Tone | None = None
    #: The interval an interval cell shows as text, for outputs that keep its two ends as
    #: numbers (the workbook).
    interval: Interval | None = None


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
    #: the minimum n a row needs to be shown, when the note says every row has fewer
    min_n: int | None = None
    #: What the table shows, as slide titles stating its rows' message, longest first (how
    #: many rows are off the target, or its highest and lowest row); none: its title is
    #: its name.  ``headline_numbers``: the counts they state.
    headlines: tuple[str, ...] = ()
    headline_numbers: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Series:
    """One series of a native chart.

    ``role`` says how it is drawn: ``data`` in the chart's own type, ``target`` as a
    dashed line on the value axis, ``cumulative`` as a line on a secondary 0-100% axis and
    ``threshold`` as a dashed line on that secondary axis, ``band`` as a shaded band from
    minus to plus each value behind the bars (a tolerance).  ``low``/``high`` are interval
    bounds drawn as error bars; ``highlight`` lists the points drawn in the alert colour.
    """

    name: str
    values: tuple[float | None, ...]
    role: Literal["data", "target", "cumulative", "threshold", "band"] = "data"
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
    #: The alt text of this drawing when it differs from the figure's (columns where the
    #: PDF draws horizontal bars); empty means the figure's alt text describes it.
    alt_text: str = ""


@dataclass(frozen=True)
class Figure:
    """A drawn chart: SVG for the PDF, PNG for slides (empty when no output places it), alt
    text, and the data it drew."""

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
    #: The chart's primary metric (set at assembly; names the workbook's columns).
    metric_id: str = ""
    #: What the chart shows, as slide titles cut from one finding's sentence, longest
    #: first, and that finding's sentence (set at assembly).  A chart no finding is about
    #: has titles stating what its metric did, from the model's values, and no sentence;
    #: when those say nothing either, no titles: its title is its name.
    headlines: tuple[str, ...] = ()
    headline_of: str = ""
    #: Numbers a shorter headline states on its own that its sentence derived from others
    #: (a change read off two shown values: "fell 2.6 points" without "from 82.6%"), or
    #: the drawn values a title with no finding states (a distribution's shares).
    headline_numbers: Mapping[str, float] = field(default_factory=dict)


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
    #: In a segment's report (a fan-out's): the section shows the whole organisation's
    #: figures, not the segment's; such sections are placed together in one labelled block.
    whole: bool = False
