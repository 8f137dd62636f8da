"""Delivery channels by the name a definition's ``delivery:`` section uses.

A channel is an object (or a class, instantiated once) with ``Options``, the pydantic
schema of its section, and ``deliver(content, artifacts, options, context)`` returning one
outcome per destination.  The built-ins are ``email`` (the report to named people),
``slack`` and ``teams`` (its headline where a team reads); plugins add channels through the
``reportgen.channels`` entry-point group, most simply by subclassing ``PostChannel``.  Every
channel sends through the one exactly-once protocol (``reportgen.delivery.once``), so a
retry or a restart never delivers twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel

from reportgen.definition.delivery_specs import DeliverySpec, EmailSpec, SlackSpec, TeamsSpec
from reportgen.delivery.once import (
    DeliveryReport,
    Destination,
    RecipientOutcome,
    SendError,
    UnknownOutcome,
    deliver_once,
)
from reportgen.errors import DeliveryError
from reportgen.registry import Registry

if TYPE_CHECKING:
    from reportgen.delivery.content import MailContent
    from reportgen.ledger.store import Ledger
    from reportgen.report.model.report_model import Artifact
    from reportgen.settings import SmtpSettings


@dataclass(frozen=True)
class DeliveryContext:
    """What a channel may use besides its options: the run's ledger row, the web page's
    link, the environment (secrets), the clock and the run's settings."""

    ledger: Ledger
    run_id: int
    link: str | None = None
    environ: Mapping[str, str] | None = None
    sleep: Callable[[float], None] = time.sleep
    smtp: SmtpSettings | None = None
    now: Callable[[], Any] | None = None
    on_unknown: UnknownOutcome = "hold"
    before_send: Callable[[], None] | None = None


class Channel(Protocol):
    Options: ClassVar[type[BaseModel]]

    def deliver(self, content: MailContent, artifacts: Sequence[Artifact], options: Any,
                context: DeliveryContext) -> list[RecipientOutcome]: ...


class EmailChannel:
    """The report, attached, to each address in to, cc and bcc."""

    Options: ClassVar[type[BaseModel]] = EmailSpec

    def deliver(self, content: MailContent, artifacts: Sequence[Artifact], options: EmailSpec,
                context: DeliveryContext) -> list[RecipientOutcome]:
        from reportgen.delivery.email import deliver_email

        if context.smtp is None:
            raise DeliveryError("sending was asked for but the settings have no 'smtp' section")
        extra: dict[str, Any] = {"now": context.now} if context.now is not None else {}
        return list(deliver_email(content, artifacts, options, context.smtp,
                                  ledger=context.ledger, run_id=context.run_id,
                                  sleep=context.sleep, environ=context.environ,
                                  on_unknown=context.on_unknown,
                                  before_send=context.before_send, **extra).outcomes)


class SlackChannel:
    """The headline to a Slack channel (incoming webhook, or bot token with files)."""

    Options: ClassVar[type[BaseModel]] = SlackSpec

    def deliver(self, content: MailContent, artifacts: Sequence[Artifact], options: SlackSpec,
                context: DeliveryContext) -> list[RecipientOutcome]:
        from reportgen.delivery.slack import deliver_slack

        return deliver_slack(content, artifacts, options, ledger=context.ledger,
                             run_id=context.run_id, link=context.link,
                             environ=context.environ, sleep=context.sleep)


class TeamsChannel:
    """The headline card to a Microsoft Teams webhook."""

    Options: ClassVar[type[BaseModel]] = TeamsSpec

    def deliver(self, content: MailContent, artifacts: Sequence[Artifact], options: TeamsSpec,
                context: DeliveryContext) -> list[RecipientOutcome]:
        from reportgen.delivery.teams import deliver_teams

        return deliver_teams(content, artifacts, options, ledger=context.ledger,
                             run_id=context.run_id, link=context.link,
                             environ=context.environ, sleep=context.sleep)


class PostChannel:
    """A channel made of one post per destination: subclasses give ``Options``, the
    destinations an options block names (``recipients``) and one try (``post``, raising
    SendError); sending them exactly once is done here."""

    Options: ClassVar[type[BaseModel]]
    #: tries per destination, and the wait before the n-th retry
    attempts: ClassVar[int] = 3
    backoff_seconds: ClassVar[float] = 2.0

    def recipients(self, options: Any) -> list[str]:
        raise NotImplementedError

    def post(self, recipient: str, content: MailContent, artifacts: Sequence[Artifact],
             options: Any, context: DeliveryContext) -> str | None:
        raise NotImplementedError

    def deliver(self, content: MailContent, artifacts: Sequence[Artifact], options: Any,
                context: DeliveryContext) -> list[RecipientOutcome]:
        name = getattr(self, "name", None) or type(self).__name__.lower()
        outcomes = []
        for recipient in self.recipients(options):
            def send(reference: str, sending: Callable[[], None],
                     recipient: str = recipient) -> str | None:
                sending()
                return self.post(recipient, content, artifacts, options, context)

            outcomes.append(deliver_once(
                Destination(context.ledger, context.run_id, content.report_id,
                            content.period_key, name, recipient), send,
                reference=lambda row_id: f"{name}:{row_id}", attempts=self.attempts,
                backoff=lambda attempt: self.backoff_seconds * 2 ** (attempt - 1),
                sleep=context.sleep, on_unknown=context.on_unknown,
                before_send=context.before_send))
        return outcomes


CHANNELS: Registry[Channel] = Registry("delivery channel", "reportgen.channels")
_BUILTINS: tuple[tuple[str, type[Channel]], ...] = (
    ("email", EmailChannel), ("slack", SlackChannel), ("teams", TeamsChannel))
for _name, _channel in _BUILTINS:
    CHANNELS.add(_name, _channel)


def options_model(channel: Any) -> type[BaseModel] | None:
    """The schema of a channel's options, or None when it declares none."""
    model = getattr(channel, "Options", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def deliver_channels(content: MailContent, artifacts: Sequence[Artifact],
                     delivery: DeliverySpec | None, context: DeliveryContext, *,
                     skip: Sequence[str] = ()) -> DeliveryReport:
    """Deliver through every channel the definition names (but ``skip``), in its order;
    one outcome per destination."""
    outcomes: list[RecipientOutcome] = []
    for name, options in delivery.channels() if delivery is not None else ():
        if name in skip:
            continue
        channel = CHANNELS.instance(name)
        model = options_model(channel)
        if model is not None and not isinstance(options, model):
            options = model.model_validate(options)  # checked when the definition loaded
        outcomes += channel.deliver(content, artifacts, options, context)
    return DeliveryReport(tuple(outcomes))


def deliver_chats(content: MailContent, artifacts: Sequence[Artifact],
                  delivery: DeliverySpec | None, *, ledger: Ledger, run_id: int,
                  link: str | None = None, environ: Mapping[str, str] | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> DeliveryReport:
    """Post to every channel the definition names but e-mail; one outcome per destination."""
    return deliver_channels(content, artifacts, delivery,
                            DeliveryContext(ledger, run_id, link, environ, sleep),
                            skip=("email",))


def report_link(public_url: str | None, report_id: str) -> str | None:
    """The web page's address of a report, when the page's public address is known."""
    return f"{public_url.rstrip('/')}/reports/{report_id}" if public_url else None


def run_link(public_url: str | None, run_id: int) -> str | None:
    """The web page's address of one run (it needs a signed-in user; no file is reachable
    from it without one), when the page's public address is known."""
    return f"{public_url.rstrip('/')}/runs/{int(run_id)}" if public_url else None


def with_chat_outcomes(status: str, error: str | None, report: DeliveryReport, *,
                       emailed: bool) -> tuple[str, str | None]:
    """A run's status and error once its posts on other channels are counted beside its
    e-mail.

    ``emailed``: the e-mail reached at least one recipient.  A run that reached someone
    and missed someone is 'partial'; one that reached nobody is 'failed'.
    """
    problems = [f"{o.recipient} ({o.status}: {o.error})"
                for o in report.failed + report.unconfirmed]
    if not problems:
        return status, error
    reached = emailed or len(report.outcomes) > len(problems)
    note = "not posted to " + "; ".join(problems)
    return ("partial" if reached else "failed"), (f"{error}; {note}" if error else note)


__all__ = ["CHANNELS", "Channel", "DeliveryContext", "PostChannel", "SendError",
           "deliver_channels", "deliver_chats", "with_chat_outcomes"]
