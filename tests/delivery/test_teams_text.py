"""What Teams formats is escaped: a value from the data is shown, never obeyed.

The card is the one ``deliver_teams`` posts, received by a webhook server on loopback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from support.webhook_server import WebhookServer

from reportgen.definition.delivery_specs import TeamsSpec
from reportgen.delivery.content import KpiLine, MailContent
from reportgen.delivery.scorecard_mail import MailScorecard
from reportgen.delivery.teams import deliver_teams, escaped, plain
from reportgen.ledger.store import Ledger

#: what a queue name or a finding could hold: a link, emphasis, a mention, a heading, code,
#: a bare URL, an entity, emoji and scripts other than Latin
HOSTILE = ("[click](https://evil.example) **bold** _it_ <at>Ops</at> # Head `code` ~~x~~ "
           "| a | https://evil.example/p?q=1&r=2 AT&amp;T C:\\dir 😀 Служба 客服 دعم")
#: each value also opens a line of its own, where Markdown reads list markers and headings
VALUES = {
    "queue": f"{HOSTILE}",
    "numbered": f"1. {HOSTILE}",
    "bullet": f"- {HOSTILE}\n+ second line\n2. third line",
    "quote": f"> {HOSTILE}",
}


@pytest.fixture
def hooks() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    yield server
    server.stop()


def _content() -> MailContent:
    queue, numbered, bullet, quote = VALUES.values()
    return MailContent(
        report_id="mqr", title=f"MQR {queue}", organisation="Org", period_key="2026-09",
        period_label="September 2026", date_range="1-30 Sep 2026",
        kpis=(KpiLine(f"CSAT in {queue}", "80.0%", "−3.0 pts", "Off target"),),
        findings=(numbered, bullet, f"{queue} fell 3.0 points"),
        actions=quote,
        scorecard=MailScorecard(title=f"Scorecard by {queue}", by_label="Queue", columns=(),
                                rows=(), line=f"off target in 1 of 2 queues ({queue} 70.0%)"))


def _texts(card: dict[str, Any]) -> list[str]:
    """Every text of the card Teams renders as Markdown: TextBlocks, fact titles and values."""
    texts = []
    for block in card["body"]:
        if block["type"] == "TextBlock":
            texts.append(block["text"])
        elif block["type"] == "FactSet":
            texts += [t for fact in block["facts"] for t in (fact["title"], fact["value"])]
    return texts


def _unescaped(text: str, character: str) -> bool:
    """Whether ``character`` appears in ``text`` without a backslash escaping it."""
    return re.search(r"(?<!\\)(?:\\\\)*" + re.escape(character), text) is not None


def test_data_in_a_teams_card_cannot_link_format_or_mention(tmp_path, hooks) -> None:
    content = _content()
    ledger = Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    run_id = ledger.start_run("mqr", "2026-09", trigger="manual", definition_hash="test",
                              code_version="test")
    environ = {"QA_TEAMS": hooks.url + "/teams/w"}
    (outcome,) = deliver_teams(content, [], TeamsSpec(webhook_env="QA_TEAMS"), ledger=ledger,
                               run_id=run_id, environ=environ, sleep=lambda _: None,
                               link="https://reports.example/run/7")
    ledger.close()
    assert outcome.status == "sent"
    (post,) = hooks.accepted("/teams/w")
    card = post.json["attachments"][0]["content"]
    texts = _texts(card)
    assert len(texts) == 1 + 2 + 3 + 1 + 1  # headline, a fact, 3 findings, scorecard, actions

    for text in texts:
        # no character Markdown reads anywhere in a line (or a mention's '<') is left bare
        for special in "[]*_`~<":
            assert not _unescaped(text, special), (special, text)
        # no line opens a list, a quote or a heading (the findings' own "1. " aside)
        for line in re.sub(r"^\d+\. ", "", text).splitlines():
            assert not re.match(r"\s*(\d+\.(\s|$)|[-+*>#])", line), line

    # the plain reading of each text is the value, whole: nothing dropped, nothing added
    queue, numbered, bullet, quote = VALUES.values()
    headline, fact_title, fact_value, *findings, scorecard, actions = map(plain, texts)
    assert headline == f"MQR {queue} — September 2026"
    assert (fact_title, fact_value) == (f"CSAT in {queue}", "80.0% (−3.0 pts, Off target)")
    assert findings == [f"1. {numbered}", f"2. {bullet}", f"3. {queue} fell 3.0 points"]
    assert scorecard == f"Scorecard by {queue}: off target in 1 of 2 queues ({queue} 70.0%)"
    assert actions == f"Actions: {quote}"
    # the card's own parts stay its own: the numbered findings and the report's link
    assert [t[:3] for t in texts[3:6]] == ["1. ", "2. ", "3. "]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open the full report",
                                "url": "https://reports.example/run/7"}]
    # the envelope's summary is a plain-text preview, not Markdown: shown as written
    assert post.json["summary"] == f"MQR {queue} — September 2026"


@pytest.mark.parametrize("value", ["", "plain words", "\\", "\\[", "1.5 points", "10. x",
                                   "a\\\\b", " 3. indented", "line\n12. next", *VALUES.values()])
def test_escaping_for_teams_reads_back_as_the_value(value: str) -> None:
    assert plain(escaped(value)) == value


def test_ordinary_words_and_figures_are_sent_without_escapes() -> None:
    """Only what Markdown would read is escaped: a client that shows a backslash literally
    (older Teams mobile apps) still shows ordinary text clean."""
    for text in ("First-reply SLA met (85.0%) in Trust & Safety: −2.6 pts vs Q2 2026",
                 "C# queue > 3 days + 2 # of 4 | A/B", "Auditor AU07 (n = 19) rose 1.1 points"):
        assert escaped(text) == text
    assert escaped("- item") == "\\- item" and escaped("# x") == "\\# x"
    assert escaped("> quoted") == "\\> quoted" and escaped("+ y") == "\\+ y"
