"""Exactly-once delivery: the one protocol every channel sends through.

A destination is (report, period, channel, recipient).  Before anything is sent the ledger
is asked: a destination recorded as sent is skipped; one whose earlier try has no known
outcome ('sending' when its process died, or 'unconfirmed') is not tried blindly again
unless the owner says so (``on_unknown``).  Otherwise the destination's row is taken (or
made), each try is counted before it is made with the reference it carries (the first one
recorded is kept for good, so every copy of one delivery can be recognised), the row is
marked 'sending' just before the message itself goes, and 'sent' or failed once the
receiving side answers.  E-mail, Slack, Teams and plugin channels differ only in ``send``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from reportgen import secrets
from reportgen.errors import DeliveryError

if TYPE_CHECKING:
    from reportgen.ledger.records import DeliveryStatus, Purpose
    from reportgen.ledger.store import Ledger

logger = logging.getLogger(__name__)

UnknownOutcome = Literal["hold", "sent", "resend"]
_UNKNOWN = ("sending", "unconfirmed")

#: ``send(reference, sending)``: make one try carrying ``reference``, calling ``sending()``
#: just before the message itself goes; returns the receiving side's reference (or None),
#: or raises SendError.  Any other exception is a bug and propagates.
Send = Callable[[str, Callable[[], None]], "str | None"]


class SendError(DeliveryError):
    """A try the receiving side refused or could not take; ``permanent`` ones are not
    retried, and ``unknown`` ones may have arrived (the request left, no answer came)."""

    def __init__(self, message: str, *, permanent: bool, unknown: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.unknown = unknown


@dataclass(frozen=True)
class RecipientOutcome:
    recipient: str
    status: DeliveryStatus | Literal["skipped"]
    attempts: int = 0
    message_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class DeliveryReport:
    """What happened to each recipient of one delivery."""

    outcomes: tuple[RecipientOutcome, ...] = field(default=())

    @property
    def failed(self) -> tuple[RecipientOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status.startswith("failed"))

    @property
    def sent(self) -> tuple[RecipientOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "sent")

    @property
    def unconfirmed(self) -> tuple[RecipientOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "unconfirmed")


@dataclass(frozen=True)
class Destination:
    """One (report, period, channel, recipient) of one run."""

    ledger: Ledger
    run_id: int
    report_id: str
    period: str
    channel: str
    recipient: str
    purpose: Purpose = "delivery"

    @property
    def label(self) -> str:
        return f"{self.report_id} {self.period}: {self.channel} to {self.recipient}"


def settled(to: Destination, on_unknown: UnknownOutcome = "hold") -> RecipientOutcome | None:
    """The outcome of ``to`` when the ledger already settles it (sent: skipped; unknown
    and not to be resent: held or recorded as sent), else None: it is to be sent."""
    if to.purpose == "resend":
        return None
    ledger = to.ledger
    state = ledger.delivery_state(to.report_id, to.period, to.channel, to.recipient)
    if state is not None and state.status == "sent":
        logger.info("%s: already sent (%s); skipped", to.label, state.smtp_message_id)
        return RecipientOutcome(to.recipient, "skipped", state.attempts, state.smtp_message_id)
    if state is None or state.status not in _UNKNOWN or on_unknown == "resend":
        return None
    row = ledger.begin_delivery(to.run_id, to.report_id, to.period, to.channel, to.recipient)
    if on_unknown == "sent":
        ledger.mark_sent(row.id)
        logger.warning("%s: recorded as sent without sending again (%s, confirmed by "
                       "--confirm-unknown sent)", to.label, row.smtp_message_id)
        return RecipientOutcome(to.recipient, "sent", row.attempts, row.smtp_message_id)
    ledger.mark_unconfirmed(row.id)
    logger.warning("%s: the outcome of an earlier try (%s) is unknown; not sent again",
                   to.label, row.smtp_message_id)
    return RecipientOutcome(to.recipient, "unconfirmed", row.attempts, row.smtp_message_id,
                            row.last_error or "the outcome of an earlier try is unknown; "
                                              "it may have arrived")


def send_once(to: Destination, send: Send, *, reference: Callable[[int], str],
              attempts: int, backoff: Callable[[int], float],
              sleep: Callable[[float], None] = time.sleep,
              before_send: Callable[[], None] | None = None) -> RecipientOutcome:
    """Send to ``to`` (which ``settled`` left to send), recording every step in the ledger.

    ``reference(row_id)`` is what a first try carries (a Message-ID); transient failures
    are retried up to ``attempts`` tries, waiting ``backoff(try)``; ``before_send`` runs
    before every try and may raise to stop (a lost run lock).
    """
    ledger = to.ledger
    row = ledger.begin_delivery(to.run_id, to.report_id, to.period, to.channel, to.recipient,
                                purpose=to.purpose)
    tries = row.attempts
    for attempt in range(1, attempts + 1):
        if before_send is not None:
            before_send()
        carried = ledger.begin_attempt(row.id, reference(row.id))
        tries += 1
        try:
            answer = send(carried, lambda: ledger.mark_sending(row.id))
        except SendError as exc:
            error = secrets.redact(str(exc))
            if exc.unknown:
                ledger.mark_unconfirmed(row.id, error)
                logger.warning("%s: no answer; it may have arrived: %s", to.label, error)
                return RecipientOutcome(to.recipient, "unconfirmed", tries, None, error)
            if exc.permanent or attempt == attempts:
                ledger.mark_failed(row.id, error, permanent=exc.permanent)
                status: DeliveryStatus = ("failed_permanent" if exc.permanent
                                          else "failed_transient")
                logger.warning("%s: %s after %d tries: %s", to.label, status, attempt, error)
                return RecipientOutcome(to.recipient, status, tries, carried, error)
            ledger.mark_failed(row.id, error, permanent=False)
            wait = backoff(attempt)
            logger.info("%s: try %d failed (%s); retrying in %.1fs", to.label, attempt, error,
                        wait)
            sleep(wait)
            continue
        ledger.mark_sent(row.id, answer)
        logger.info("%s: sent (%s)", to.label, answer or carried)
        return RecipientOutcome(to.recipient, "sent", tries, answer or carried)
    raise AssertionError("unreachable: the loop returns on its last try")


def deliver_once(to: Destination, send: Send, *, reference: Callable[[int], str],
                 attempts: int, backoff: Callable[[int], float],
                 sleep: Callable[[float], None] = time.sleep,
                 on_unknown: UnknownOutcome = "hold",
                 before_send: Callable[[], None] | None = None) -> RecipientOutcome:
    """``settled`` or else ``send_once``: the whole protocol for one destination."""
    return settled(to, on_unknown) or send_once(
        to, send, reference=reference, attempts=attempts, backoff=backoff, sleep=sleep,
        before_send=before_send)
