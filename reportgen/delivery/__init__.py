"""Delivery channels: how a finished report reaches people.

Channels are named in a definition's ``delivery:`` section and registered in
``reportgen.delivery.channels.CHANNELS``: e-mail (``email.py``) carries the report to
people; Slack and Teams post its headline where a team reads; plugins add their own.
Every channel sends through one exactly-once protocol (``once.py``) that records each
destination in the run ledger, so a retry or a restart never delivers twice.
"""

from __future__ import annotations

from typing import Any

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

_HOMES = {"KpiLine": "content", "MailContent": "content", "DeliveryReport": "once",
          "RecipientOutcome": "once", "AttachmentTooLarge": "email",
          "HeaderInjectionError": "email", "deliver_email": "email", "send_notice": "email"}


def __getattr__(name: str) -> Any:
    # Imported on use: naming a channel in ``validate`` must not load SMTP, the ledger or
    # the message templates.
    if name in _HOMES:
        from importlib import import_module

        return getattr(import_module(f"reportgen.delivery.{_HOMES[name]}"), name)
    raise AttributeError(name)
