"""Delivery channels by the name a definition's ``delivery:`` section uses.

E-mail (``reportgen.delivery.email``) carries the report to named people; the chat
channels here post its headline where a team reads: ``slack`` and ``teams``, each a
function ``(content, artifacts, spec, *, ledger, run_id, link, environ, sleep)`` returning
one outcome per destination.  Plugins add channels through the ``reportgen.channels``
entry-point group; every channel records each destination in the ledger, once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from reportgen.definition.models import DeliverySpec
from reportgen.delivery.content import MailContent
from reportgen.delivery.email import DeliveryReport, RecipientOutcome
from reportgen.ledger.store import Ledger
from reportgen.registry import Registry
from reportgen.report.model import Artifact


class ChatChannel(Protocol):
    def __call__(self, content: MailContent, artifacts: Sequence[Artifact], spec: Any, *,
                 ledger: Ledger, run_id: int, link: str | None,
                 environ: Mapping[str, str] | None,
                 sleep: Callable[[float], None]) -> list[RecipientOutcome]: ...


def _slack(*args: Any, **kwargs: Any) -> list[RecipientOutcome]:
    from reportgen.delivery.slack import deliver_slack

    return deliver_slack(*args, **kwargs)


def _teams(*args: Any, **kwargs: Any) -> list[RecipientOutcome]:
    from reportgen.delivery.teams import deliver_teams

    return deliver_teams(*args, **kwargs)


CHANNELS: Registry[ChatChannel] = Registry("delivery channel", "reportgen.channels")
CHANNELS.add("slack", _slack)
CHANNELS.add("teams", _teams)


def deliver_chats(content: MailContent, artifacts: Sequence[Artifact],
                  delivery: DeliverySpec | None, *, ledger: Ledger, run_id: int,
                  link: str | None = None, environ: Mapping[str, str] | None = None,
                  sleep: Callable[[float], None] = time.sleep) -> DeliveryReport:
    """Post to every chat channel the definition names; one outcome per destination."""
    outcomes: list[RecipientOutcome] = []
    if delivery is None:
        return DeliveryReport(())
    for name in ("slack", "teams"):
        spec = getattr(delivery, name, None)
        if spec is not None:
            outcomes += CHANNELS.get(name)(content, artifacts, spec, ledger=ledger,
                                           run_id=run_id, link=link, environ=environ,
                                           sleep=sleep)
    return DeliveryReport(tuple(outcomes))


def report_link(public_url: str | None, report_id: str) -> str | None:
    """The web page's address of a report, when the page's public address is known."""
    return f"{public_url.rstrip('/')}/reports/{report_id}" if public_url else None


def run_link(public_url: str | None, run_id: int) -> str | None:
    """The web page's address of one run (it needs a signed-in user; no file is reachable
    from it without one), when the page's public address is known."""
    return f"{public_url.rstrip('/')}/runs/{int(run_id)}" if public_url else None


def with_chat_outcomes(status: str, error: str | None, report: DeliveryReport, *,
                       emailed: bool) -> tuple[str, str | None]:
    """A run's status and error once its chat posts are counted beside its e-mail.

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
