"""The whole report, ``ReportModel``, with what sits beside its sections (period, statistical
and method notes, provenance, the action register, readouts, theme), and an ``Artifact``
rendered from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from reportgen.report.model.metric_results import MetricResult, Tone
from reportgen.report.model.scorecard import LegendItem, Scorecard
from reportgen.report.model.sections import Finding, Kpi, Section


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
    #: the due date ``due_text`` writes, and the KPI value ``target_text`` writes
    due: date | None = None
    target: float | None = None


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
    #: The counts those notes state, per source and reason (``tickets:identical`` -> 1351).
    quality_counts: Mapping[str, int] = field(default_factory=dict)

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
    #: what the failed data checks the warnings name found and expected (their numbers)
    check_values: tuple[float, ...] = ()
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
    #: What the restatements compare with: the values sent before (per metric id), when,
    #: and each source's rows then and the rows it gained or lost since.
    restated_from: Mapping[str, object] = field(default_factory=dict)
    #: Segments against headline KPIs, when the definition asks for a scorecard.
    scorecard: Scorecard | None = None
    #: What the status colours of tiles and the scorecard mean (shown once, on the summary).
    status_legend: tuple[LegendItem, ...] = ()
    #: A segment's report: the title and introduction of the block its ``whole`` sections
    #: are shown in ("Company-wide context (all queues)"); empty for a whole report.
    context_title: str = ""
    context_intro: str = ""
    #: the whole's values of the segment's KPIs, to compare with, said in that block only
    context_comparison: str = ""

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
