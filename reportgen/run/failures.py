"""A run that failed or reached only some recipients: recorded in the ledger, and its owner
alerted once.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from typing import TYPE_CHECKING

from reportgen import secrets
from reportgen.delivery.alerts import AlertKind, OwnerAlert, alert_owner, owner_channels
from reportgen.ledger.records import RunRecord
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.settings import SmtpSettings

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition

logger = logging.getLogger(__name__)


def alert_failure(loaded: LoadedDefinition, period: Period, record: RunRecord, *,
                   ledger: Ledger, smtp: SmtpSettings | None,
                   environ: Mapping[str, str] | None) -> None:
    """Tell the owner, once per report, period and kind, that this run failed or went out
    only in part, and what to do about it."""
    definition = loaded.definition
    if not definition.owner:
        logger.warning("run #%d %s: %s, and the definition names no owner to alert",
                       record.id, definition.id, record.status)
        return
    channels = owner_channels(smtp, now=ledger.now, environ=environ)
    kind: AlertKind = "partial" if record.status == "partial" else "failed"
    lines = [f"Run #{record.id} of the {definition.title} for {period.label} "
             + ("reached only some of its recipients." if kind == "partial"
                else "failed; the report was not delivered.")]
    lines.append(f"\nWhat happened: {record.error}")
    unconfirmed = [d.recipient for d in record.deliveries if d.status == "unconfirmed"]
    if unconfirmed:
        lines.append(
            f"\nUnconfirmed: {', '.join(unconfirmed)}. An earlier run stopped while the mail "
            f"server was taking the message, so it may already have arrived. Check with the "
            f"recipient or the server's log, then run it again with '--confirm-unknown sent' "
            f"(it arrived: record it) or '--confirm-unknown resend' (send again with the same "
            f"Message-ID).")
    lines.append(f"\nRecipients already reached are not sent the report again. See "
                 f"'reportgen history {definition.id}'; fix the cause and run "
                 f"'reportgen run --period {period.key} --send' again.")
    alert = OwnerAlert(kind=kind, report_id=definition.id, period=period.key,
                       subject=f"[{kind}] {definition.title} — {period.label}",
                       text="\n".join(lines) + "\n", run_id=record.id)
    alert_owner(alert, definition.owner, channels, ledger=ledger)


def record_failure(ledger: Ledger, run_id: int, exc: Exception, stage: str,
          input_hashes: Mapping[str, str] | None = None) -> None:
    message = secrets.redact(f"{type(exc).__name__}: {exc}")
    ledger.finish_run(run_id, "failed", error=message, input_hashes=input_hashes)
    logger.error("run #%d failed in %s: %s", run_id, stage, message)
    # The traceback may quote values from data or settings, so it is redacted too.
    logger.debug("run #%d traceback:\n%s", run_id, secrets.redact(traceback.format_exc()))
