"""What Slack formats is escaped: a value from the data is shown, never obeyed."""

from __future__ import annotations

import json

from reportgen.delivery.chat import ChatMessage
from reportgen.delivery.slack import blocks_of, slack_message

HOSTILE = "<!channel> Trust & Safety <https://evil.example|click here> <@U123>"


def _message() -> ChatMessage:
    return ChatMessage(headline=f"MQR {HOSTILE}", kpis=(f"CSAT in {HOSTILE}: 80.0%",),
                       findings=(f"{HOSTILE} fell 3.0 points",), link="https://reports.example/run/7",
                       actions=f"1 overdue: {HOSTILE}", scorecard_title="Scorecard by queue",
                       scorecard=f"off target in 1 of 2 queues ({HOSTILE} 70.0%)")


def test_data_in_slack_text_cannot_mention_or_link() -> None:
    message = _message()
    blocks = blocks_of(message)
    formatted = [b["text"]["text"] for b in blocks if b["text"]["type"] == "mrkdwn"]
    posted = [slack_message(message).text, *formatted]
    for text in posted:
        # Slack reads '<...>' as a mention, a link or a command, and '&' as an entity
        assert "<!channel>" not in text and "<@U123>" not in text, text
        assert "<https://evil.example" not in text, text
    joined = "\n".join(posted)
    # in the text: headline, KPI, finding, scorecard, actions; in the blocks all but the headline
    assert joined.count("&lt;!channel&gt;") == 5 + 4
    assert "Trust &amp; Safety" in joined and "Trust & Safety" not in joined
    # the report's own link stays a link
    assert formatted[-1] == "<https://reports.example/run/7|Open the full report>"
    # the header is plain text: Slack shows it as written, so it is not escaped
    header = blocks[0]["text"]
    assert header["type"] == "plain_text" and header["text"] == f"MQR {HOSTILE}"[:150]
    json.dumps(blocks)  # what is posted is plain JSON
