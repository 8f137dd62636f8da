"""The queue scorecard (segments × headline KPIs), sparklines and the status legend, as the
model carries them: display strings and colours, decided once at assembly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reportgen.report.model.metric_results import Status, Tone


@dataclass(frozen=True)
class Sparkline:
    """A small line of a value's history: an SVG for the PDF, block glyphs for plain text.

    ``values`` are what was drawn, oldest first (None: a period with no value shown).
    """

    id: str
    svg: str
    alt_text: str
    values: tuple[float | None, ...]
    #: the same line as block glyphs (``▂▃▅▇``), for e-mail and text outputs
    glyphs: str = ""


@dataclass(frozen=True)
class ScorecardCell:
    """One KPI for one segment: value, change against the previous period, status."""

    metric_id: str
    value_text: str
    #: the change with `` *`` when the breakdown row's test calls it a real change
    change_text: str
    change_tone: Tone = "neutral"
    change_colour: str = ""
    status_text: str = ""
    status_tone: Tone = "neutral"
    status_colour: str = ""
    sparkline: Sparkline | None = None
    #: the numbers the texts were written from
    value: float | None = None
    delta: float | None = None
    #: the change ``change_text`` states: the difference of the shown values
    shown_delta: float | None = None
    significant: bool = False
    #: the test the change was judged by (None: not tested, so not called real)
    test: str | None = None
    #: a count's change relative to its previous value, which its change text also writes
    relative: float | None = None
    #: the status its text spells (None: no target, or no value)
    status: Status | None = None
    #: the segment's n this period, and its value in each period of the metric's history
    #: (oldest first; None where it was withheld or absent), for the workbook
    n: int | None = None
    history: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class ScorecardColumn:
    """A KPI of the scorecard: its label and target as written on the scorecard."""

    metric_id: str
    label: str
    target_text: str = ""


@dataclass(frozen=True)
class ScorecardRow:
    """One segment (a queue) across the scorecard's KPIs, in the columns' order."""

    label: str
    cells: tuple[ScorecardCell, ...]


@dataclass(frozen=True)
class Scorecard:
    """Segments of one breakdown against headline KPIs."""

    title: str
    by_label: str
    columns: tuple[ScorecardColumn, ...]
    rows: tuple[ScorecardRow, ...]
    #: what the sparklines span (``September 2025 to September 2026``)
    trend_label: str = ""
    #: what the changes are against, what ``*`` and ``—`` mean
    note: str = ""
    #: how to read the drawn sparklines (dot, dashed target), and the glyph trends of text
    trend_note: str = ""
    glyph_note: str = ""
    #: the scorecard in one sentence for chat posts (who is off target, the worst real
    #: change), and the counts it states; empty when no KPI has a target or a real change
    line: str = ""
    line_numbers: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LegendItem:
    """One status of the legend: its label and the colour every output draws it in."""

    label: str
    tone: Tone
    colour: str
