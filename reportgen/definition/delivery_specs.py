"""Who receives a report and how, as typed models of its YAML: addresses, e-mail and chat
channels, message templates, and fan-out to segments with their recipients.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator

from reportgen.definition.fields import (
    EMAIL_PATTERN,
    Identifier,
    PlainPath,
    Strict,
    no_newlines,
    unknown_placeholder,
)


def check_address(value: str) -> str:
    no_newlines(value)
    if len(value.strip()) > 254:  # RFC 5321's limit on a forward path
        raise ValueError("is longer than the 254 characters an email address may have")
    if not EMAIL_PATTERN.match(value.strip()):
        raise ValueError(f"'{value}' is not an email address")
    return value.strip()


Address = Annotated[str, AfterValidator(check_address), Field(description="An email address.")]


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
        return no_newlines(check_message_template(value, SUBJECT_FIELDS))


_MESSAGE_FIELDS = ("title", "period", "segment")


#: The placeholders an e-mail subject may use.
SUBJECT_FIELDS = ("title", "period", "organisation")


_ENV_NAME = r"^[A-Z_][A-Z0-9_]{0,127}$"


def check_message_template(value: str, fields: tuple[str, ...] = _MESSAGE_FIELDS) -> str:
    """A subject/message/title template may use only the placeholders ``fields`` (by
    default {title}, {period} and {segment})."""
    names = ", ".join("{" + f + "}" for f in fields)
    try:
        unknown = unknown_placeholder(value, fields)
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
        return no_newlines(check_message_template(value, ("title", "segment")))
