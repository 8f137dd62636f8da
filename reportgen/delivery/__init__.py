"""Delivery channels: how a finished report reaches people.

E-mail is the only channel so far (``reportgen.delivery.email``); every channel records
each recipient in the run ledger so a retry or a restart never delivers twice.
"""

from __future__ import annotations

from reportgen.delivery.content import KpiLine, MailContent
from reportgen.delivery.email import (
    AttachmentTooLarge,
    DeliveryReport,
    HeaderInjectionError,
    RecipientOutcome,
    deliver_email,
    send_notice,
)

__all__ = [
    "AttachmentTooLarge",
    "DeliveryReport",
    "HeaderInjectionError",
    "KpiLine",
    "MailContent",
    "RecipientOutcome",
    "deliver_email",
    "send_notice",
]
