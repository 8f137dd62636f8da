"""Owner alerts in the ledger: each (report, period, kind, channel) is claimed before it is
sent, so a rerun or a second daemon never sends it twice (``reportgen.delivery.alerts``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from reportgen import secrets
from reportgen.ledger.schema import alerts, inserted_id

#: an owner alert still 'sending' after this long was cut off; it may be sent again
ALERT_SEND_TIMEOUT = timedelta(minutes=10)



@dataclass(frozen=True)
class AlertRecord:
    id: int
    report_id: str
    period: str
    kind: str
    channel: str
    recipient: str
    run_id: int | None
    status: Literal["sending", "sent", "failed"]
    message_id: str | None
    error: str | None
    updated_at: datetime


class AlertStore:
    """The alert half of the ``Ledger`` (mixed into it)."""

    engine: sa.Engine
    now: Callable[[], datetime]

    # --- owner alerts ---------------------------------------------------------------------
    def claim_alert(self, report_id: str, period: str, kind: str, channel: str,
                    recipient: str, run_id: int | None = None) -> int | None:
        """The row to send an alert on, or None if it was already sent (or is being sent).

        One alert per report, period, kind and channel, enforced by a unique constraint so
        two daemons cannot both send it; a failed one may be claimed again, and so may one
        left 'sending' for ALERT_SEND_TIMEOUT (its sender died mid-send).
        """
        values = {"report_id": report_id, "period": period, "kind": kind, "channel": channel,
                  "recipient": recipient, "run_id": run_id, "status": "sending",
                  "updated_at": self.now()}
        try:
            with self.engine.begin() as conn:
                return inserted_id(conn.execute(alerts.insert().values(**values)))
        except IntegrityError:
            pass
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(alerts.c.id).where(
                alerts.c.report_id == report_id, alerts.c.period == period,
                alerts.c.kind == kind, alerts.c.channel == channel)).first()
            if row is None:
                return None
            cut_off = self.now() - ALERT_SEND_TIMEOUT
            again = conn.execute(alerts.update().where(
                alerts.c.id == row.id,
                (alerts.c.status == "failed")
                | ((alerts.c.status == "sending") & (alerts.c.updated_at < cut_off)),
            ).values(**values)).rowcount
        return int(row.id) if again else None

    def finish_alert(self, alert_id: int, *, message_id: str | None = None,
                     error: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(alerts.update().where(alerts.c.id == alert_id).values(
                status="failed" if error else "sent", message_id=message_id,
                error=secrets.redact(error) if error else None, updated_at=self.now()))

    def alerts(self, report_id: str | None = None) -> list[AlertRecord]:
        """Owner alerts, oldest first."""
        condition = alerts.c.report_id == report_id if report_id else sa.true()
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(alerts).where(condition).order_by(alerts.c.id)
                                ).mappings().all()
        return [AlertRecord(**{k: row[k] for k in AlertRecord.__dataclass_fields__})
                for row in rows]
