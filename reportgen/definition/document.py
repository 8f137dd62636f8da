"""The report definition as a whole, as a typed model of its YAML, with its theme and privacy
settings.

Every model forbids unknown keys, so a typo is an error rather than a silently ignored
option; every field carries a description, which ``reportgen schema`` exports for editors.
Cross-references (a metric's source, a chart's metric, the columns a metric reads) are
checked after these models, in ``definition.checks``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from reportgen.definition.content_specs import (
    ChartSpec,
    MetricSpec,
    OutputSpec,
    PeriodSpec,
    SectionSpec,
    SourceSpec,
    StatisticsSpec,
)
from reportgen.definition.delivery_specs import (
    Address,
    DeliverySpec,
    FanOutSpec,
    RecipientsFromSpec,
)
from reportgen.definition.fields import Identifier, Strict, no_newlines
from reportgen.definition.insight_specs import ActionsSpec, InsightsSpec, InterventionSpec
from reportgen.definition.schedule_specs import ApprovalSpec, GateSpec, ScheduleSpec
from reportgen.definition.scorecard_specs import ScorecardSpec


class ThemeSpec(Strict):
    primary: str = Field("#1F3A5F", pattern=r"^#[0-9A-Fa-f]{6}$")
    accent: str = Field("#2A9D8F", pattern=r"^#[0-9A-Fa-f]{6}$")
    palette: list[Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]] | None = None
    font_family: str = Field("Inter", pattern=r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,60}$", description="A font name (letters, digits, spaces and '-').")


class PrivacySpec(Strict):
    allow_pii: list[str] = Field(default_factory=list, description="PII columns that may appear in outputs (e.g. agent names).")


class Definition(Strict):
    """A report definition: data sources -> metrics -> charts -> sections -> outputs."""

    id: Identifier
    title: str = Field(description="The report's title, also in e-mail subjects (one line).")
    owner: Address | None = Field(None, description="Email address of the report owner (told when a run is held).")
    organisation: str = Field("", description="Shown beside the title and in e-mail subjects (one line).")
    description: str = ""
    locale: str = Field("en", description="Locale numbers and dates are written in (Babel), e.g. en, en_GB, de, fr_CA.")
    period: PeriodSpec = PeriodSpec()
    statistics: StatisticsSpec = StatisticsSpec()
    sources: dict[Identifier, SourceSpec] = Field(min_length=1)
    metrics: list[MetricSpec] = Field(min_length=1)
    charts: list[ChartSpec] = Field(default_factory=list)
    sections: list[SectionSpec] = Field(min_length=1)
    summary: list[str] | None = Field(None, description="Metric ids shown as executive-summary KPI tiles; defaults to every section's first KPI.")
    scorecard: ScorecardSpec | None = Field(None, description="A scorecard of one breakdown's segments (the queues) against headline KPIs: value, change, status and a sparkline each; the MQR shows it on its own page, the e-mail as a table.")
    outputs: list[OutputSpec] = Field(default_factory=lambda: [OutputSpec(format="pdf")], min_length=1, description="Output files, each made by the renderer its 'format' names.")
    schedule: ScheduleSpec | None = None
    delivery: DeliverySpec | None = None
    approval: ApprovalSpec | None = None
    gates: list[GateSpec] = Field(default_factory=list)
    interventions: list[InterventionSpec] = Field(default_factory=list)
    insights: InsightsSpec = InsightsSpec()
    actions: ActionsSpec | None = Field(None, description="Where the action register lives; the MQR lists its actions and the QBR its wins, risks, initiatives and asks.")
    theme: ThemeSpec = ThemeSpec()
    privacy: PrivacySpec = PrivacySpec()
    fan_out: FanOutSpec | None = Field(None, description="Make one report per segment (queue, site, vendor, team lead) from one pass over the data.")
    recipients_from: RecipientsFromSpec | None = Field(None, description="Each fan-out segment's recipients, from a mapping file or the data.")

    @field_validator("title", "organisation")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return no_newlines(value)  # both go into e-mail subjects

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        from reportgen.text.locales import check_locale

        return check_locale(value)

    def metric(self, metric_id: str) -> MetricSpec:
        for spec in self.metrics:
            if spec.id == metric_id:
                return spec
        raise KeyError(metric_id)

    def chart(self, chart_id: str) -> ChartSpec:
        for spec in self.charts:
            if spec.id == chart_id:
                return spec
        raise KeyError(chart_id)
