"""Microsoft Teams: an incoming webhook or a Workflows (Power Automate) webhook URL.

Both take an Adaptive Card in a message envelope.  The URL is read from the environment
variable the definition names.  The POST is plain JSON over HTTPS, done with the standard
library: no Teams SDK covers webhooks, and one request needs no client library.

A card's TextBlocks and facts render a subset of Markdown (bold, italic, lists, links), so
every text in them is escaped where Markdown would read it: a value from the data
('[click](https://x)', '**urgent**', '<at>Ops</at>') is shown as written, never obeyed.  The numbered findings and the labels are
the card's own and stay as they are.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reportgen.definition.delivery_specs import TeamsSpec
from reportgen.delivery.chat import ChatMessage, PostError, chat_message, env_secret, post_once
from reportgen.delivery.content import MailContent
from reportgen.delivery.email import RecipientOutcome
from reportgen.ledger.store import Ledger
from reportgen.report.model.report_model import Artifact

CHANNEL = "teams"

#: what Markdown in a TextBlock reads anywhere in a line: emphasis and strike-through, code,
#: a link's brackets (without them "(url)" is plain text), a mention or autolink ("<at>",
#: "<https://…>"), and the backslash itself.  Only these are escaped, so ordinary text
#: ("First-reply SLA met (85.0%)", "Trust & Safety") stays as written on a client that
#: shows escapes literally (older Teams mobile apps did).
_SPECIAL = re.compile(r"([\\`*_\[\]<~])")
#: what a line opens with that Markdown reads as a list, a quote or a heading
_LINE_START = re.compile(r"^(\s*)([-+>#])", re.MULTILINE)
#: a line opening with a number, a dot and a space would become a numbered list
_LIST_NUMBER = re.compile(r"^(\s*\d+)\.(?=\s|$)", re.MULTILINE)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def escaped(value: str) -> str:
    """``value`` as a TextBlock shows it literally: the characters Markdown reads anywhere
    backslash-escaped, and a line's opening list marker, quote or heading sign as well."""
    text = _SPECIAL.sub(r"\\\1", value)
    return _LIST_NUMBER.sub(r"\1\\.", _LINE_START.sub(r"\1\\\2", text))


def plain(text: str) -> str:
    """What a reader sees of ``text`` escaped by :func:`escaped`: the value as it was."""
    return _ESCAPE.sub(r"\1", text)


def card_of(message: ChatMessage) -> dict[str, Any]:
    """The message as an Adaptive Card (1.4, what Teams renders) in a message envelope; every
    text from the report is escaped (the envelope's summary is plain text, not Markdown)."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": escaped(message.headline), "weight": "Bolder",
         "size": "Medium", "wrap": True}]
    if message.kpis:
        facts = [dict(zip(("title", "value"), k.split(": ", 1), strict=False))
                 for k in message.kpis]
        body.append({"type": "FactSet", "facts": [{"title": escaped(f.get("title", "")),
                                                   "value": escaped(f.get("value", ""))}
                                                  for f in facts]})
    for i, finding in enumerate(message.findings, 1):
        body.append({"type": "TextBlock", "text": f"{i}. {escaped(finding)}", "wrap": True})
    if message.scorecard:
        body.append({"type": "TextBlock", "text": f"{escaped(message.scorecard_title)}: "
                     f"{escaped(message.scorecard)}", "wrap": True})
    if message.actions:
        body.append({"type": "TextBlock", "text": f"Actions: {escaped(message.actions)}",
                     "wrap": True})
    card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "type": "AdaptiveCard", "version": "1.4", "body": body}
    if message.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the full report",
                            "url": message.link}]
    return {"type": "message", "summary": message.headline, "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
         "content": card}]}


def _post(url: str, payload: dict[str, Any], timeout: float) -> str | None:
    if not url.startswith(("https://", "http://")):
        raise PostError("the Teams webhook URL must start with https://", permanent=True)
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"),
                                     headers={"Content-Type": "application/json"},
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
            return None
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")[:200]
        raise PostError(f"Teams answered HTTP {exc.code}: {body}",
                        permanent=not (exc.code == 429 or exc.code >= 500)) from None
    except TimeoutError as exc:
        raise PostError(f"no answer from Teams ({exc})", permanent=False, unknown=True) from None
    except (urllib.error.URLError, ConnectionError, OSError) as exc:
        raise PostError(f"could not reach Teams ({exc})", permanent=False) from None


def deliver_teams(content: MailContent, artifacts: Sequence[Artifact], spec: TeamsSpec, *,
                  ledger: Ledger, run_id: int, link: str | None = None,
                  environ: Mapping[str, str] | None = None,
                  sleep: Callable[[float], None] = time.sleep,
                  timeout: float = 20) -> list[RecipientOutcome]:
    """Post the report's headline card to Teams once per report and period."""
    env = os.environ if environ is None else environ
    payload = card_of(chat_message(content, spec, link=link))

    def post() -> str | None:
        return _post(env_secret(spec.webhook_env, env, "Teams webhook"), payload, timeout)

    return [post_once(post, ledger=ledger, run_id=run_id, report_id=content.report_id,
                      period=content.period_key, channel=CHANNEL,
                      recipient=f"webhook:{spec.webhook_env}", sleep=sleep)]
