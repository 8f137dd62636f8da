"""What chat channels share: the message text, and exactly-once posting through the ledger.

A chat post has no Message-ID a receiver could deduplicate on, so the ledger is the only
guard, through the protocol every channel shares (``reportgen.delivery.once``).  A post cut
off with no answer (a timeout after the request left) is recorded 'unconfirmed' and not
repeated blindly; errors the service reports are retried when they are transient (5xx,
429, connection refused) and recorded as failures when not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from reportgen import secrets, text
from reportgen.definition.delivery_specs import ChatSpec
from reportgen.delivery.content import KpiLine, MailContent
from reportgen.delivery.once import Destination, RecipientOutcome, SendError, deliver_once
from reportgen.ledger.records import Purpose
from reportgen.ledger.store import Ledger

ATTEMPTS = 3
BACKOFF_SECONDS = 2.0


#: a post the service refused or could not take (``permanent``: not retried; ``unknown``:
#: the request may have reached the service)
PostError = SendError


@dataclass(frozen=True)
class ChatMessage:
    """One report's chat message: a headline, KPI lines, top findings, the scorecard in one
    line, the actions and a link."""

    headline: str
    kpis: tuple[str, ...]
    findings: tuple[str, ...]
    link: str | None
    actions: str = ""
    #: the scorecard's title and its one-sentence summary (empty without a scorecard)
    scorecard_title: str = ""
    scorecard: str = ""

    @property
    def text(self) -> str:
        lines = [self.headline, ""]
        lines += [f"• {k}" for k in self.kpis]
        if self.findings:
            lines += ["", "Top findings:"] + [f"{i}. {f}" for i, f in
                                             enumerate(self.findings, 1)]
        if self.scorecard:
            lines += ["", f"{self.scorecard_title}: {self.scorecard}"]
        if self.actions:
            lines += ["", f"Actions: {self.actions}"]
        if self.link:
            lines += ["", f"Full report: {self.link}"]
        return "\n".join(lines)


def chat_message(content: MailContent, spec: ChatSpec, *, link: str | None,
                 segment: str = "") -> ChatMessage:
    """The message for ``content``; the template was checked when the definition loaded."""
    headline = spec.message.format(title=content.title, period=content.period_label,
                                   segment=segment)
    kpis = tuple(_kpi_line(k) for k in content.kpis)
    findings = content.findings if spec.findings is None else content.findings[:spec.findings]
    card = content.scorecard
    return ChatMessage(headline, kpis, tuple(findings), link, content.actions,
                       scorecard_title=card.title if card and card.line else "",
                       scorecard=card.line if card else "")


def _kpi_line(kpi: KpiLine) -> str:
    """``CSAT: 78.2% (−3.7 pts, Off target)``; only the parts the KPI has, so a KPI with no
    target or no change never leaves an empty ``(, )``."""
    parts = [p for p in (kpi.delta_text, kpi.status_text) if p and p != text.MISSING]
    return f"{kpi.label}: {kpi.value_text}" + (f" ({', '.join(parts)})" if parts else "")


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
    """Call ``post`` unless the ledger has this (report, period, channel, recipient) settled."""
    def send(reference: str, sending: Callable[[], None]) -> str | None:
        sending()  # a post has no separate hand-over: it is under way once called
        return post()

    return deliver_once(Destination(ledger, run_id, report_id, period, channel, recipient,
                                    purpose), send,
                        reference=lambda row_id: f"{channel}:{row_id}", attempts=attempts,
                        backoff=lambda attempt: BACKOFF_SECONDS * 2 ** (attempt - 1),
                        sleep=sleep)
