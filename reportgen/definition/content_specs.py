"""What a report holds, as typed models of its YAML: the period, the statistics settings, the
sources, metrics, charts, tables, sections and output files.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from reportgen.definition.fields import (
    MAX_MAGNITUDE,
    ColumnType,
    Identifier,
    Strict,
    breakdown_columns,
    check_filename,
    known_zone,
)
from reportgen.period import GRAINS


class PeriodSpec(Strict):
    grain: Literal["week", "month", "quarter"] = Field(
        "month", description=f"Reporting period: one of {', '.join(GRAINS)}.")
    timezone: str = Field("UTC", description="IANA timezone periods are cut in, e.g. Europe/Berlin.")
    history: int = Field(13, ge=1, le=120,
                         description="Periods of history to load for trends, including the current one.")

    @field_validator("timezone")
    @classmethod
    def known_zone(cls, value: str) -> str:
        return known_zone(value)


class StatisticsSpec(Strict):
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Confidence level of intervals.")
    alpha: float = Field(0.05, gt=0, lt=0.5, description="Significance level of change tests.")
    min_n: int = Field(30, ge=1, description="Rows or segments with fewer observations are suppressed.")


class SourceSpec(Strict):
    kind: str = Field(description="Connector: csv, excel, parquet, sql or duckdb (or a plugin's name).")
    path: str | None = Field(None, description="File path (csv, excel, parquet, or a DuckDB database), relative to the definition file.")
    sheet: str | int | None = Field(None, description="Excel sheet name or index.")
    url: str | None = Field(None, description="SQLAlchemy URL for kind 'sql', e.g. sqlite:///data.db or postgresql://user:${PGPASSWORD}@host/db.")
    table: str | None = Field(None, description="Table to read (sql); the alternative to 'query'.")
    query: str | None = Field(None, description="SQL query; :start and :end (sql) or $start and $end (duckdb) are bound to the loaded window.")
    version_query: str | None = Field(None, description="sql: a statement whose answer changes whenever the data does (e.g. SELECT max(updated_at) FROM tickets). Cached results and previews are kept only while it answers the same; without it, the row count and latest time of the window are used.")
    files: dict[str, str] = Field(default_factory=dict, description="DuckDB: view name -> data file (csv/parquet), relative to the definition file.")
    time_column: str = Field(description="Column holding each row's timestamp; rows are assigned to periods by it.")
    timezone: str = Field("UTC", description="Timezone of naive timestamps in the data.")
    columns: dict[str, ColumnType] = Field(default_factory=dict, description="Column contract: column -> type, checked on load.")
    rename: dict[str, str] = Field(default_factory=dict, description="Our column name -> the column's name in the data, e.g. rating: 'Customer Satisfaction Rating'.")
    values: dict[str, dict[str | int | float | bool, Any]] = Field(default_factory=dict, description="Per column, raw value -> value, e.g. rating: {good: 5, bad: 1}.")
    pii: list[str] = Field(default_factory=list, description="Columns holding personal data: never shown in outputs unless privacy.allow_pii lists them.")
    dedupe_on: list[str] = Field(default_factory=list, description="Columns that identify a row (e.g. [ticket_id]): later copies of a key are dropped and counted in the data-quality note.")
    date_format: str | None = Field(None, min_length=2, max_length=64, description="How the time column is written when it is not ISO 8601, in strptime codes, e.g. '%d/%m/%Y %H:%M' (file sources); a day/month date without it is refused as ambiguous.")
    derive: dict[str, str] = Field(default_factory=dict, description="New columns as SQL expressions (DuckDB's SQL) over the source's columns, e.g. frt_hours: 'epoch(first_response_at - created_at) / 3600'; type them in 'columns' if needed.")
    aggregate_in: Literal["database", "duckdb"] | None = Field(None, description="sql: where the statements run: 'database' (pushed down to it) or 'duckdb' (the window read once, only the columns the definition uses, into an embedded DuckDB, and aggregated there; SQLite only). Unset, SQLite sources are read once and other databases aggregate in place, as measured in benchmarks/README.md.")
    options: dict[str, Any] = Field(default_factory=dict, description="Options of the source kind (a plugin's), checked by that kind's schema.")
    description: str = ""

    @field_validator("timezone")
    @classmethod
    def known_zone(cls, value: str) -> str:
        return known_zone(value)

    @field_validator("derive")
    @classmethod
    def _derived(cls, value: dict[str, str]) -> dict[str, str]:
        if value:
            from reportgen.definition.expressions import columns_of

            for name, expression in value.items():
                try:
                    columns_of(expression)
                except ValueError as exc:
                    raise ValueError(f"derived column '{name}': {exc}") from None
        return value

    @field_validator("date_format")
    @classmethod
    def _date_codes(cls, value: str | None) -> str | None:
        if value is not None and not all(any(code in value for code in group)
                                         for group in (("%d", "%j"), ("%m", "%b", "%B", "%j"),
                                                       ("%Y", "%y"))):
            raise ValueError(f"a date format needs day, month and year codes (such as "
                             f"'%d/%m/%Y %H:%M'), found {value!r}")
        return value

    @model_validator(mode="after")
    def _fields_for_kind(self) -> SourceSpec:
        needs = {"csv": ("path",), "excel": ("path",), "parquet": ("path",)}
        for name in needs.get(self.kind, ()):
            if getattr(self, name) is None:
                raise ValueError(f"a {self.kind} source needs '{name}'")
        if self.kind == "sql" and (self.url is None or (self.table is None) == (self.query is None)):
            raise ValueError("a sql source needs 'url' and exactly one of 'table' or 'query'")
        if self.kind == "duckdb" and self.query is None:
            raise ValueError("a duckdb source needs 'query' (over 'files' or the database at 'path')")
        return self


class MetricSpec(Strict):
    id: Identifier
    calculator: str = Field(description="Calculator name, e.g. csat, qa_score, volume.")
    source: str = Field(description="Name of the source the metric reads.")
    label: str | None = Field(None, description="Name shown in reports; defaults to the id.")
    description: str = Field("", description="What the metric means, shown in the methodology.")
    params: dict[str, Any] = Field(default_factory=dict, description="Calculator parameters (see the calculator's documentation).")
    filter: dict[str, Any] = Field(default_factory=dict, description="Keep rows whose column equals a value or is in a list.")
    by: list[str | list[str]] = Field(default_factory=list, description="Breakdowns: a column, or a list of columns for a cross breakdown.")
    target: float | None = Field(None, ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, description="Target in the metric's own units (rates as fractions: 0.85).")
    at_risk_margin: float | None = Field(None, ge=0, le=MAX_MAGNITUDE, description="Within this distance on the wrong side of target is 'at risk' rather than 'off target'.")
    direction: Literal["higher", "lower"] | None = Field(None, description="Which way is good; defaults to the calculator's.")
    min_n: int | None = Field(None, ge=1, description="Overrides statistics.min_n.")
    confidence: float | None = Field(None, gt=0.5, lt=1)
    alpha: float | None = Field(None, gt=0, lt=0.5)
    history: int | None = Field(None, ge=2, le=120, description="Periods of history this metric reads, the report period included, when it needs another span than the report's period.history (a KPI's seasonal baseline for kpi_anomaly: 25 or more). The report's sources are then read over the longest span any metric asks for; every other metric keeps the report's.")

    @field_validator("by")
    @classmethod
    def _breakdowns(cls, value: list[str | list[str]]) -> list[str | list[str]]:
        return [breakdown_columns(entry) for entry in value]

    @property
    def title(self) -> str:
        return self.label or self.id


class ChartSpec(Strict):
    id: Identifier
    type: str = Field(description="Chart builder name, e.g. trend, bar, pareto.")
    metric: str | list[str] = Field(description="Metric id(s) the chart draws; the first is primary.")
    title: str | None = None
    caption: str = ""
    params: dict[str, Any] = Field(default_factory=dict, description="Chart parameters (see the chart's documentation).")

    @property
    def metric_ids(self) -> list[str]:
        return [self.metric] if isinstance(self.metric, str) else list(self.metric)


class TableSpec(Strict):
    metric: str = Field(description="Metric id whose breakdown the table shows.")
    by: str | list[str] = Field(description="The breakdown to show (one of the metric's 'by').")
    title: str | None = None
    top: int | None = Field(None, ge=1, description="Show only the first N rows after sorting.")
    sort: Literal["value", "n", "name", "change"] = "value"

    @field_validator("by")
    @classmethod
    def _valid_breakdown(cls, value: str | list[str]) -> str | list[str]:
        return breakdown_columns(value)

    @property
    def by_key(self) -> str:
        return self.by if isinstance(self.by, str) else ",".join(self.by)


#: A section lists at most this many findings (the most severe) unless it says otherwise;
#: the rest are detail a director does not act on (a metric "at risk" its tile already flags,
#: the share of each cause the pareto chart draws), and the tables and charts beside them
#: carry the numbers.
SECTION_FINDINGS = 3


class SectionSpec(Strict):
    id: Identifier
    title: str
    intro: str = ""
    kpis: list[str] = Field(default_factory=list, description="Metric ids shown as KPI tiles.")
    charts: list[str] = Field(default_factory=list, description="Chart ids.")
    tables: list[TableSpec] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    findings: int = Field(SECTION_FINDINGS, ge=0, le=12, description="The most findings the section lists, the most severe first; raise it for a section that tells several stories (an audit programme: its sample, its scorer, its rubric).")


class OutputSpec(Strict):
    """One output file: the renderer named by ``format``, its file name, and the renderer's
    own options beside them (checked by the renderer's ``Options`` when the plan resolves)."""

    # the renderer's options are the other keys; its own schema forbids unknown ones
    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)

    format: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64, description="The renderer: pdf (the Monthly Quality Report), pptx (the QBR deck), xlsx (the data appendix), html (the report as one web page), or a plugin's name.")
    filename: str = Field("{report}-{period}.{ext}", max_length=200, description="File name (no folders); {report}, {period} and {ext} are filled in.")

    @field_validator("filename")
    @classmethod
    def _plain_filename(cls, value: str) -> str:
        return check_filename(value)

    @property
    def options(self) -> dict[str, Any]:
        """The renderer's options, as written (every key but 'format' and 'filename')."""
        return dict(self.model_extra or {})
