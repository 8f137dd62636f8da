"""The report definition, as typed models of its YAML.

Every model forbids unknown keys, so a typo is an error rather than a silently ignored
option; every field carries a description, which ``reportgen schema`` exports for editors.
Cross-references (a metric's source, a chart's metric, the columns a metric reads) are
checked after these models, in ``definition.checks``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import string
import zoneinfo
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from reportgen.period import GRAINS

Identifier = Annotated[
    str,
    Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", min_length=1, max_length=64,
          description="A name made of letters, digits, '_' and '-', starting with a letter."),
]
ColumnType = Literal["str", "int", "float", "bool", "datetime", "category"]
_EMAIL = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+$")


class Strict(BaseModel):
    # nan and inf are never a target, a threshold or a wait; refusing them here keeps
    # every float field finite without a validator each.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


#: Longest wait the scheduler accepts anywhere (a year, in minutes).
YEAR_MINUTES = 366 * 24 * 60
#: A cron expression that does not fire within this many years is a mistake.
CRON_HORIZON_YEARS = 8
#: Largest magnitude of a target: anything beyond is a typo, and would print as nonsense.
MAX_MAGNITUDE = 1e15
#: Placeholders an output file name may use.
FILENAME_FIELDS = ("report", "period", "ext")


#: Every character ``str.splitlines`` breaks at; an e-mail header may hold none of them.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def has_line_break(value: str) -> bool:
    return any(ch in LINE_BREAKS for ch in value)


def _no_newlines(value: str) -> str:
    if has_line_break(value):
        raise ValueError("must be a single line (line breaks could inject mail headers)")
    return value


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() | {"UTC"})


def _known_zone(value: str) -> str:
    """An IANA zone name that the zone database has (checked by name, so a path such as
    'America' or '../x' never reaches the file system)."""
    if value not in _zone_names():
        raise ValueError(f"unknown timezone {value[:80]!r}; expected an IANA name such as "
                         f"'Europe/Berlin'")
    return value


def _plain_path(value: str) -> str:
    """A path relative to the definition's folder that cannot climb out of it."""
    if not value or "\x00" in value or any(ord(c) < 32 for c in value):
        raise ValueError("must be a non-empty path without control characters")
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute() or value.startswith("~") or ".." in path.parts:
        raise ValueError(f"must be a path inside the definition's folder, found {value!r}")
    return value


def _unknown_placeholder(template: str, allowed: tuple[str, ...]) -> str | None:
    """The first placeholder of a ``str.format`` template outside ``allowed`` (or with a
    format spec or conversion), or None; raises ValueError for a malformed template."""
    parts = list(string.Formatter().parse(template))  # a malformed template is reported first
    for _, name, spec, conversion in parts:
        if name is not None and (name not in allowed or spec or conversion):
            return name
    return None


def _check_filename(value: str) -> str:
    """An output file name: a plain name (no folders), using only the known placeholders."""
    if not value.strip():
        raise ValueError("must not be empty")
    if any(ord(c) < 32 or c in "/\\" for c in value) or has_line_break(value):
        raise ValueError(f"must be a plain file name without folders or control characters, "
                         f"found {value!r}")
    try:
        unknown = _unknown_placeholder(value, FILENAME_FIELDS)
    except ValueError as exc:
        raise ValueError(f"is not a valid name template ({exc}); write braces as '{{{{' and "
                         f"'}}}}'") from None
    if unknown is not None:
        raise ValueError(f"unknown placeholder {{{unknown}}}; available: "
                         f"{', '.join('{' + f + '}' for f in FILENAME_FIELDS)}")
    if value.strip() in (".", ".."):
        raise ValueError(f"must be a file name, found {value!r}")
    return value


def _breakdown(entry: str | list[str]) -> str | list[str]:
    """A breakdown: a column name, or a non-empty list of column names."""
    columns = [entry] if isinstance(entry, str) else entry
    if not columns or any(not column.strip() for column in columns):
        raise ValueError(f"a breakdown is a column name or a list of column names, found "
                         f"{entry!r}")
    return entry


PlainPath = Annotated[str, AfterValidator(_plain_path)]


class PeriodSpec(Strict):
    grain: Literal["week", "month", "quarter"] = Field(
        "month", description=f"Reporting period: one of {', '.join(GRAINS)}.")
    timezone: str = Field("UTC", description="IANA timezone periods are cut in, e.g. Europe/Berlin.")
    history: int = Field(13, ge=1, le=120,
                         description="Periods of history to load for trends, including the current one.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _known_zone(value)


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
    options: dict[str, Any] = Field(default_factory=dict, description="Options of the source kind (a plugin's), checked by that kind's schema.")
    description: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _known_zone(value)

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

    @field_validator("by")
    @classmethod
    def _breakdowns(cls, value: list[str | list[str]]) -> list[str | list[str]]:
        return [_breakdown(entry) for entry in value]

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
        return _breakdown(value)

    @property
    def by_key(self) -> str:
        return self.by if isinstance(self.by, str) else ",".join(self.by)


class SectionSpec(Strict):
    id: Identifier
    title: str
    intro: str = ""
    kpis: list[str] = Field(default_factory=list, description="Metric ids shown as KPI tiles.")
    charts: list[str] = Field(default_factory=list, description="Chart ids.")
    tables: list[TableSpec] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


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
        return _check_filename(value)

    @property
    def options(self) -> dict[str, Any]:
        """The renderer's options, as written (every key but 'format' and 'filename')."""
        return dict(self.model_extra or {})


class RetrySpec(Strict):
    every_minutes: float = Field(60, ge=1, le=YEAR_MINUTES, description="First wait before retrying a held run.")
    backoff: float = Field(2.0, ge=1, le=10, description="Each wait is this many times the previous one.")
    max_wait_minutes: float = Field(24 * 60, ge=1, le=YEAR_MINUTES)
    deadline_hours: float = Field(72, gt=0, le=YEAR_MINUTES / 60, description="Give up (and tell the owner) this long after the first attempt.")


class ScheduleSpec(Strict):
    cron: str = Field(max_length=200, description="Crontab expression (minute hour day month weekday), e.g. '0 7 2 * *'.")
    timezone: str | None = Field(None, description="Timezone of the cron expression; defaults to period.timezone.")
    grace_minutes: float = Field(24 * 60, gt=0, le=YEAR_MINUTES, description="A run missed while the scheduler was down still runs, once, if it comes back within this time.")
    retry: RetrySpec = RetrySpec()
    enabled: bool = True
    deliver_by: str | None = Field(
        None, description="Deadline for the report to be delivered, from the scheduled time: "
                          "a duration ('6h', '90m') after it, or a local time ('09:30', in the "
                          "schedule's timezone) at or after it. The owner is alerted once if "
                          "it has not gone out by then.")

    @field_validator("deliver_by")
    @classmethod
    def _valid_deadline(cls, value: str | None) -> str | None:
        from reportgen.definition.deadline import parse_deliver_by

        if value is not None:
            parse_deliver_by(value)  # raises ValueError with what was expected
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else _known_zone(value)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        """A crontab APScheduler parses and that fires within CRON_HORIZON_YEARS years."""
        from apscheduler.triggers.cron import CronTrigger

        try:
            trigger = CronTrigger.from_crontab(value, timezone="UTC")
        # APScheduler reports most mistakes as ValueError, some (odd field text) otherwise
        except Exception as exc:
            raise ValueError(f"not a valid crontab expression ({exc})") from None
        now = dt.datetime.now(dt.UTC)
        try:
            first = trigger.get_next_fire_time(None, now)
        except (OverflowError, ValueError):
            first = None
        horizon = now + dt.timedelta(days=366 * CRON_HORIZON_YEARS)
        if first is None or first > horizon:
            raise ValueError(f"crontab expression '{value}' never fires (not within "
                             f"{CRON_HORIZON_YEARS} years); check the day and month fields")
        return value


def _check_address(value: str) -> str:
    _no_newlines(value)
    if len(value.strip()) > 254:  # RFC 5321's limit on a forward path
        raise ValueError("is longer than the 254 characters an email address may have")
    if not _EMAIL.match(value.strip()):
        raise ValueError(f"'{value}' is not an email address")
    return value.strip()


Address = Annotated[str, AfterValidator(_check_address), Field(description="An email address.")]


def _attach_pdf() -> list[Literal["pdf", "pptx"]]:
    return ["pdf"]


class EmailSpec(Strict):
    to: list[Address] = Field(min_length=1)
    cc: list[Address] = Field(default_factory=list)
    bcc: list[Address] = Field(default_factory=list)
    subject: str = Field("{title} — {period}", description="Subject template; {title}, {period}, {organisation} are filled in.")
    attach: list[Literal["pdf", "pptx"]] = Field(default_factory=_attach_pdf)
    max_attachment_mb: float = Field(20, gt=0, le=1000)
    reply_to: Address | None = None

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        return _no_newlines(check_message_template(value, SUBJECT_FIELDS))


_MESSAGE_FIELDS = ("title", "period", "segment")
#: The placeholders an e-mail subject may use.
SUBJECT_FIELDS = ("title", "period", "organisation")
_ENV_NAME = r"^[A-Z_][A-Z0-9_]{0,127}$"


def check_message_template(value: str, fields: tuple[str, ...] = _MESSAGE_FIELDS) -> str:
    """A subject/message/title template may use only the placeholders ``fields`` (by
    default {title}, {period} and {segment})."""
    names = ", ".join("{" + f + "}" for f in fields)
    try:
        unknown = _unknown_placeholder(value, fields)
    except ValueError as exc:
        raise ValueError(f"not a valid template ({exc}); use {names}, and '{{{{' for a "
                         f"literal brace") from None
    if unknown is not None:
        raise ValueError(f"unknown placeholder '{{{unknown}}}': expected one of {names}")
    return value


class ChatSpec(Strict):
    message: str = Field("{title} — {period}", min_length=1, max_length=300, description="The message's first line; {title}, {period} and {segment} are filled in.")
    findings: int | None = Field(None, ge=0, le=20, description="How many of the summary's findings the message lists; all of them when left out.")

    @field_validator("message")
    @classmethod
    def _template(cls, value: str) -> str:
        return check_message_template(value)


class SlackSpec(ChatSpec):
    webhook_env: str | None = Field(None, pattern=_ENV_NAME, description="Environment variable holding a Slack incoming-webhook URL (the URL is a secret and never in a definition).")
    token_env: str | None = Field(None, pattern=_ENV_NAME, description="Environment variable holding a Slack bot token (xoxb-...); with 'channel', posts the message and uploads the files in 'attach'.")
    channel: str | None = Field(None, max_length=80, description="Slack channel id to post to with the bot token, e.g. C0123456789.")
    attach: list[Literal["pdf", "pptx", "xlsx", "html"]] = Field(default_factory=list, description="Files uploaded with a bot token (a webhook message links to the web page instead).")

    @model_validator(mode="after")
    def _one_way(self) -> SlackSpec:
        if (self.webhook_env is None) == (self.token_env is None):
            raise ValueError("give either 'webhook_env' or 'token_env' (with 'channel')")
        if self.token_env is not None and not self.channel:
            raise ValueError("'token_env' needs 'channel' (the channel id to post to)")
        if self.webhook_env is not None and (self.channel or self.attach):
            raise ValueError("'channel' and 'attach' need a bot token ('token_env'); an "
                             "incoming webhook posts to its own channel, without files")
        return self


class TeamsSpec(ChatSpec):
    webhook_env: str = Field(pattern=_ENV_NAME, description="Environment variable holding the Teams incoming-webhook or workflow URL.")


class DeliverySpec(Strict):
    """Where a finished report goes: each key but ``notify_owner_on_hold`` names a channel
    (email, slack, teams, or a plugin's) with that channel's options, checked by its schema."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)

    email: EmailSpec | None = None
    slack: SlackSpec | None = None
    teams: TeamsSpec | None = None
    notify_owner_on_hold: bool = Field(True, description="Email the owner when gates hold a run.")

    def channels(self) -> list[tuple[str, Any]]:
        """Each channel named, with its options (a built-in's typed, a plugin's as written)."""
        named = [(name, getattr(self, name)) for name in ("email", "slack", "teams")]
        return [(n, o) for n, o in named if o is not None] + list((self.model_extra or {}).items())


class ApprovalSpec(Strict):
    required: bool = Field(False, description="Runs that would send wait, 'pending_approval', until an approver approves them on the web page.")
    approvers: list[Address] = Field(default_factory=list, description="E-mail addresses of the web page's users who may approve; they are told when a run waits. Empty: anyone with the approver role.")
    deadline_hours: float = Field(24, gt=0, le=YEAR_MINUTES / 60, description="The owner is alerted once if a run still waits this long after it was built.")


class GateSpec(Strict):
    kind: Literal["min_rows", "freshness", "null_rate", "duplicates", "sample_size",
                  "dropped_share"]
    source: str
    column: str | None = Field(None, description="Column checked (null_rate, duplicates).")
    metric: str | None = Field(None, description="Metric whose n is checked (sample_size), or whose values left out as invalid (off-scale ratings, negative durations) are weighed against its n (dropped_share).")
    min: float | None = Field(None, description="min_rows / sample_size: the least acceptable count.")
    max: float | None = Field(None, description="null_rate / duplicates / dropped_share: the largest acceptable share (0-1); dropped_share counts what the data-quality note counts: rows dropped, values read as blank, identical rows (with 'metric': the metric's values it says were left out).")
    max_age_hours: float | None = Field(None, description="freshness: the newest row must reach within this many hours of the period end.")
    action: Literal["hold", "warn"] = Field("hold", description="hold: no report is sent; warn: the report says so.")

    @model_validator(mode="after")
    def _threshold(self) -> GateSpec:
        needed = {"min_rows": "min", "sample_size": "min", "null_rate": "max",
                  "duplicates": "max", "freshness": "max_age_hours",
                  "dropped_share": "max"}[self.kind]
        if getattr(self, needed) is None:
            raise ValueError(f"a {self.kind} gate needs '{needed}'")
        if self.kind in ("null_rate", "duplicates") and self.column is None:
            raise ValueError(f"a {self.kind} gate needs 'column'")
        if self.kind == "sample_size" and self.metric is None:
            raise ValueError("a sample_size gate needs 'metric'")
        return self


ControlValue = Annotated[str | int | float | bool, Field(description="A value of the control column.")]


class ControlSpec(Strict):
    """A comparison group that did not get the change: rows whose ``column`` is one of
    ``values`` (and that match the rest of the intervention's scope)."""

    column: str = Field(min_length=1, description="Column that tells the groups apart, e.g. queue.")
    values: list[ControlValue] = Field(min_length=1, max_length=100, description="Its values in the control group, e.g. [Shipping].")


class InterventionSpec(Strict):
    name: str
    date: dt.date = Field(description="The day the change took effect.")
    metric: str = Field(description="Metric id expected to move.")
    scope: dict[str, Any] = Field(default_factory=dict, description="Rows it applies to, e.g. queue: Onboarding.")
    expected: Literal["improve", "decline"] = "improve"
    description: str = ""
    control: ControlSpec | None = Field(None, description="A group that did not get the change, e.g. {column: queue, values: [Shipping]}: the effect is then read as a difference in differences (the scope's change minus the control's).")

    @field_validator("control")
    @classmethod
    def _control_apart_from_scope(cls, control: ControlSpec | None,
                                  info: ValidationInfo) -> ControlSpec | None:
        scope = info.data.get("scope")
        if control is None or not isinstance(scope, dict):
            return control
        column = control.column
        if column not in scope:
            raise ValueError(f"control column '{column}' must also be in 'scope', so that the "
                             f"treated rows are told apart by it (e.g. scope: {{{column}: ...}})")
        treated = scope[column] if isinstance(scope[column], list) else [scope[column]]
        shared = [v for v in control.values if v in treated]
        if shared:
            raise ValueError(f"control values {shared!r} are also in scope.{column}; the control "
                             f"group must not overlap the rows that got the change")
        return control


class ActionsSpec(Strict):
    file: str = Field(description="The action register (YAML or CSV), relative to this file: "
                                  "finding, metric, action, owner, due date, status, KPI and target.")


class InsightsSpec(Strict):
    summary_findings: int = Field(5, ge=0, le=20, description="Findings shown in the executive summary.")
    pareto_cut: float = Field(0.8, gt=0, lt=1)
    streak_periods: int = Field(3, ge=2)


class ThemeSpec(Strict):
    primary: str = Field("#1F3A5F", pattern=r"^#[0-9A-Fa-f]{6}$")
    accent: str = Field("#2A9D8F", pattern=r"^#[0-9A-Fa-f]{6}$")
    palette: list[Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]] | None = None
    font_family: str = Field("Inter", pattern=r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,60}$", description="A font name (letters, digits, spaces and '-').")


class PrivacySpec(Strict):
    allow_pii: list[str] = Field(default_factory=list, description="PII columns that may appear in outputs (e.g. agent names).")


class RecipientsFromSpec(Strict):
    """Where each segment's recipients come from: a mapping file, or a column of the data."""

    file: PlainPath | None = Field(None, description="CSV file (inside the definition's folder) mapping a segment value to an address.")
    key: str | None = Field(None, description="Column of the file holding the segment value; defaults to the fan-out column.")
    email: str = Field("email", description="Column (of the file, or of the segment's source rows) holding the address.")
    source: Identifier | None = Field(None, description="Without a file: the source whose rows in the segment name the recipients in column 'email'.")

    @model_validator(mode="after")
    def _one_place(self) -> RecipientsFromSpec:
        if (self.file is None) == (self.source is None):
            raise ValueError("give either 'file' (a mapping file) or 'source' (a column of the data)")
        return self


class FanOutSpec(Strict):
    """One report per value of a column (or of several): the whole report's sections filtered
    to that segment, with its own title, file names and recipients."""

    by: Annotated[list[str], Field(min_length=1, max_length=4)] = Field(description="Column(s) whose values make the segments, e.g. [queue].")
    source: Identifier | None = Field(None, description="Source the segments and their sizes are read from; defaults to the first source that has every 'by' column.")
    values: list[str] | None = Field(None, description="Only these segments (joined by ' / ' for several columns); all values in the period when unset.")
    min_rows: int = Field(1, ge=1, description="A segment with fewer rows than this in the period is skipped (with the reason recorded).")
    title: str = Field("{title} — {segment}", max_length=200, description="Each segment's title; {title} and {segment} are filled in.")
    compare: bool = Field(True, description="Show each headline value against the whole report ('Billing vs all').")
    include_whole: bool = Field(True, description="Also render the whole report (for leadership).")

    @field_validator("by", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        # checked here: a bad template would otherwise fail the fan-out halfway through
        return _no_newlines(check_message_template(value, ("title", "segment")))


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
        return _no_newlines(value)  # both go into e-mail subjects

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
