"""What chat channels share: the message text, and exactly-once posting through the ledger.

A chat post has no Message-ID a receiver could deduplicate on, so the ledger is the only
guard: the try is recorded before the POST, 'sending' just before it goes, 'sent' when the
service accepts it.  A post cut off with no answer (a timeout after the request left) is
recorded 'unconfirmed' and not repeated blindly; errors the service reports are retried
when they are transient (5xx, 429, connection refused) and recorded as failures when not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reportgen import secrets
from reportgen.definition.models import ChatSpec
from reportgen.delivery.content import MailContent
from reportgen.delivery.email import RecipientOutcome
from reportgen.ledger.store import Ledger, Purpose

logger = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF_SECONDS = 2.0


class PostError(Exception):
    """A post the service refused or could not take; ``permanent`` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool, unknown: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.unknown = unknown  # the request may have reached the service


@dataclass(frozen=True)
class ChatMessage:
    """One report's chat message: a headline, KPI lines, top findings and a link."""

    headline: str
    kpis: tuple[str, ...]
    findings: tuple[str, ...]
    link: str | None

    @property
    def text(self) -> str:
        lines = [self.headline, ""]
        lines += [f"• {k}" for k in self.kpis]
        if self.findings:
            lines += ["", "Top findings:"] + [f"{i}. {f}" for i, f in
                                             enumerate(self.findings, 1)]
        if self.link:
            lines += ["", f"Full report: {self.link}"]
        return "\n".join(lines)


def chat_message(content: MailContent, spec: ChatSpec, *, link: str | None,
                 segment: str = "") -> ChatMessage:
    """The message for ``content``; the template was checked when the definition loaded."""
    headline = spec.message.format(title=content.title, period=content.period_label,
                                   segment=segment)
    kpis = tuple(f"{k.label}: {k.value_text} ({k.delta_text}, {k.status_text})".replace(
        " (, )", "") for k in content.kpis)
    return ChatMessage(headline, kpis, tuple(content.findings[:spec.findings]), link)


def env_secret(name: str, environ: Mapping[str, str], what: str) -> str:
    value = environ.get(name, "")
    if not value:
        raise PostError(f"{what}: the environment variable {name} is not set", permanent=True)
    secrets.remember(value)  # a webhook URL or token never reaches a log or the ledger
    return value


def post_once(post: Callable[[], str | None], *, ledger: Ledger, run_id: int, report_id: str,
              period: str, channel: str, recipient: str, purpose: Purpose = "delivery",
              sleep: Callable[[float], None] = time.sleep,
              attempts: int = ATTEMPTS) -> RecipientOutcome:
    """Call ``post`` unless the ledger has this (report, period, channel, recipient) sent."""
    state = (None if purpose == "resend"
             else ledger.delivery_state(report_id, period, channel, recipient))
    if state is not None and state.status == "sent":
        logger.info("%s %s: already posted to %s %s; skipped", report_id, period, channel,
                    recipient)
        return RecipientOutcome(recipient, "skipped", state.attempts, state.smtp_message_id)
    if state is not None and state.status in ("sending", "unconfirmed"):
        row = ledger.begin_delivery(run_id, report_id, period, channel, recipient)
        _mark_unconfirmed(ledger, row.id)
        return RecipientOutcome(recipient, "unconfirmed", state.attempts, None,
                                "an earlier post was cut off; it may have arrived")
    row = ledger.begin_delivery(run_id, report_id, period, channel, recipient, purpose=purpose)
    error = ""
    for attempt in range(1, attempts + 1):
        ledger.begin_attempt(row.id, f"{channel}:{row.id}")
        ledger.mark_sending(row.id)
        try:
            reference = post()
        except PostError as exc:
            error = secrets.redact(str(exc))
            if exc.unknown:
                _mark_unconfirmed(ledger, row.id, error)
                return RecipientOutcome(recipient, "unconfirmed", attempt, None, error)
            ledger.mark_failed(row.id, error, permanent=exc.permanent)
            if exc.permanent or attempt == attempts:
                status = "failed_permanent" if exc.permanent else "failed_transient"
                logger.error("%s %s: %s post to %s failed: %s", report_id, period, channel,
                             recipient, error)
                return RecipientOutcome(recipient, status, attempt, None, error)
            sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            continue
        ledger.mark_sent(row.id, reference)
        return RecipientOutcome(recipient, "sent", attempt, reference)
    raise AssertionError("unreachable")  # the loop returns on its last attempt


def _mark_unconfirmed(ledger: Ledger, delivery_id: int, error: str | None = None) -> None:
    import sqlalchemy as sa

    from reportgen.ledger.schema import deliveries

    with ledger.engine.begin() as conn:
        conn.execute(sa.update(deliveries).where(deliveries.c.id == delivery_id).values(
            status="unconfirmed", updated_at=ledger.now(),
            last_error=secrets.redact(error) if error else deliveries.c.last_error))
