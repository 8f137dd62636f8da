"""Slack: an incoming webhook (a message with a link), or a bot token (message and files).

Both go through slack-sdk.  The webhook URL and the token are read from the environment
variables the definition names, never from the definition itself.
"""

from __future__ import annotations

import os
import time
import urllib.error
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from reportgen.definition.delivery_specs import SlackSpec
from reportgen.delivery.chat import ChatMessage, PostError, chat_message, env_secret, post_once
from reportgen.delivery.content import MailContent
from reportgen.delivery.email import RecipientOutcome, load_attachments
from reportgen.ledger.store import Ledger
from reportgen.report.model.report_model import Artifact

CHANNEL = "slack"
#: where a bot token's API calls go; a proxy (or a test server) may stand in for Slack
API_URL_ENV = "REPORTGEN_SLACK_API_URL"


def escaped(value: str) -> str:
    """``value`` as Slack's formatted text shows it literally: '&', '<' and '>' escaped as
    Slack asks, so a value from the data ('Trust & Safety', '<!channel>', '<https://x|y>')
    can never become a mention or a link."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(message: ChatMessage) -> ChatMessage:
    """``message`` with every text Slack formats escaped (the link is ours, and stays one)."""
    return replace(message, headline=escaped(message.headline),
                   kpis=tuple(escaped(k) for k in message.kpis),
                   findings=tuple(escaped(f) for f in message.findings),
                   actions=escaped(message.actions),
                   scorecard_title=escaped(message.scorecard_title),
                   scorecard=escaped(message.scorecard))


def blocks_of(message: ChatMessage) -> list[dict[str, Any]]:
    """Block Kit for ``message``: the headline as a header (plain text); KPIs, findings, the
    scorecard's line and the actions as formatted text, escaped."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.headline[:150]}}]
    message = slack_message(message)
    if message.kpis:
        blocks.append({"type": "section", "text": {
            "type": "mrkdwn", "text": "\n".join(f"• {k}" for k in message.kpis)}})
    if message.findings:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Top findings*\n"
                       + "\n".join(f"{i}. {f}" for i, f in enumerate(message.findings, 1))}})
    if message.scorecard:
        blocks.append({"type": "section", "text": {
            "type": "mrkdwn", "text": f"*{message.scorecard_title}*\n{message.scorecard}"}})
    if message.actions:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": f"*Actions*\n{message.actions}"}})
    if message.link:
        blocks.append({"type": "section", "text": {
            "type": "mrkdwn", "text": f"<{message.link}|Open the full report>"}})
    return blocks


def _status_error(status: int, body: str) -> PostError:
    # 429 and 5xx are the service's momentary trouble; anything else will not get better
    return PostError(f"Slack answered HTTP {status}: {body[:200]}",
                     permanent=not (status == 429 or status >= 500))


def _post_webhook(url: str, message: ChatMessage, timeout: float) -> str | None:
    from slack_sdk.webhook import WebhookClient

    try:
        response = WebhookClient(url, timeout=int(max(timeout, 1))).send(
            text=slack_message(message).text, blocks=blocks_of(message))
    except TimeoutError as exc:
        raise PostError(f"no answer from Slack ({exc})", permanent=False, unknown=True) from None
    except (urllib.error.URLError, ConnectionError, OSError) as exc:
        raise PostError(f"could not reach Slack ({exc})", permanent=False) from None
    if response.status_code != 200:
        raise _status_error(response.status_code, str(response.body))
    return None


def _post_bot(token: str, channel: str, message: ChatMessage, files: Sequence[Path],
              environ: Mapping[str, str], timeout: float) -> str | None:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=token, timeout=int(max(timeout, 1)),
                       base_url=environ.get(API_URL_ENV) or WebClient.BASE_URL)
    try:
        if files:
            response = client.files_upload_v2(
                channel=channel, initial_comment=slack_message(message).text,
                file_uploads=[{"file": str(p), "filename": p.name, "title": p.name}
                              for p in files])
            no_files: list[dict[str, Any]] = [{}]
            return str(response.get("files", no_files)[0].get("id") or "") or None
        response = client.chat_postMessage(channel=channel, text=slack_message(message).text,
                                           blocks=blocks_of(message))
        return str(response.get("ts") or "") or None
    except SlackApiError as exc:
        status = exc.response.status_code
        raise _status_error(status, str(exc.response.get("error", ""))) from None
    except TimeoutError as exc:
        raise PostError(f"no answer from Slack ({exc})", permanent=False, unknown=True) from None
    except (urllib.error.URLError, ConnectionError, OSError) as exc:
        raise PostError(f"could not reach Slack ({exc})", permanent=False) from None


def deliver_slack(content: MailContent, artifacts: Sequence[Artifact], spec: SlackSpec, *,
                  ledger: Ledger, run_id: int, link: str | None = None,
                  environ: Mapping[str, str] | None = None,
                  sleep: Callable[[float], None] = time.sleep,
                  timeout: float = 20) -> list[RecipientOutcome]:
    """Post the report's headline to Slack once per report and period."""
    env = os.environ if environ is None else environ
    message = chat_message(content, spec, link=link)
    if spec.webhook_env is not None:
        recipient = f"webhook:{spec.webhook_env}"

        def post() -> str | None:
            url = env_secret(spec.webhook_env or "", env, "Slack webhook")
            return _post_webhook(url, message, timeout)
    else:
        recipient = str(spec.channel)
        files = [Path(a.path) for a in artifacts if a.format in spec.attach]
        # the sha256 check and the size limit are the same as for e-mail attachments
        load_attachments(artifacts, spec.attach, limit_mb=1024)

        def post() -> str | None:
            token = env_secret(spec.token_env or "", env, "Slack bot token")
            return _post_bot(token, str(spec.channel), message, files, env, timeout)
    return [post_once(post, ledger=ledger, run_id=run_id, report_id=content.report_id,
                      period=content.period_key, channel=CHANNEL, recipient=recipient,
                      sleep=sleep)]
