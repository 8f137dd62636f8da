"""Delivery channels: how a finished report reaches people.

E-mail (``reportgen.delivery.email``) carries the report to people; Slack and Teams
(``reportgen.delivery.channels``) post its headline where a team reads.  Every channel
records each destination in the run ledger so a retry or a restart never delivers twice.
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
