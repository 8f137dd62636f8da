"""Slack, Teams and the e-mail read back: every summary finding, the overdue actions, and
no empty parentheses for a KPI without a target."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support.smtp_server import smtp_settings
from support.web_site import mini_definition
from support.webhook_server import WebhookServer

from reportgen.definition.delivery_specs import ChatSpec
from reportgen.delivery.chat import chat_message
from reportgen.delivery.content import KpiLine, MailContent, render_bodies
from reportgen.delivery.slack import blocks_of
from reportgen.delivery.teams import card_of, plain
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.runner import run_report

SEPTEMBER = Period.parse("2026-09", "month", "Europe/Berlin")


@pytest.fixture
def hooks():
    server = WebhookServer().start()
    yield server
    server.stop()


def _definition(demo_dir: Path, folder: Path) -> Path:
    path = mini_definition(demo_dir, folder)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # a second headline KPI with no target: its status is empty
    data["metrics"].append({"id": "csat_free", "label": "CSAT untargeted", "calculator": "csat",
                            "source": "responses", "params": {"column": "rating"},
                            "by": ["queue"]})
    data["metrics"][0]["label"] = "CSAT"
    data["sections"][0]["kpis"].append("csat_free")
    data["summary"] = ["csat", "csat_free"]
    (folder / "actions.yaml").write_text(yaml.safe_dump({"actions": [
        {"id": "A1", "finding": "Billing CSAT fell", "metric": "csat",
         "scope": {"queue": "Billing"}, "action": "Rewrite the refund macros",
         "owner": "Billing lead", "started": "2026-09-10", "due": "2026-09-25",
         "status": "open", "target": 0.85},
        {"id": "A2", "finding": "CSAT below target", "metric": "csat",
         "action": "Coach the weekend shift", "owner": "Ops lead", "started": "2026-09-01",
         "due": "2026-12-01", "status": "open", "target": 0.85}]}), encoding="utf-8")
    data["actions"] = {"file": "actions.yaml"}
    data["delivery"].update(slack={"webhook_env": "QA_SLACK"}, teams={"webhook_env": "QA_TEAMS"})
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_messages_carry_every_summary_finding_and_the_overdue_actions(
        demo_dir, tmp_path, smtp_server, hooks):
    path = _definition(demo_dir, tmp_path)
    environ = {"QA_SLACK": hooks.url + "/slack/T0/B0/x", "QA_TEAMS": hooks.url + "/teams/w"}
    record = run_report(load_definition(path), SEPTEMBER, trigger="schedule",
                        ledger=Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}"),
                        out_dir=tmp_path / "out", send=True, smtp=smtp_settings(smtp_server),
                        environ=environ, sleep=lambda _: None)
    assert record.status == "succeeded", record.error
    mail = smtp_server.wait_for(1)[0].message.get_body(("plain",)).get_content()
    highlights = mail.split("Highlights:", 1)[1].split("\n\n", 1)[0]
    findings = [line[2:] for line in highlights.strip().splitlines() if line.startswith("- ")]
    assert findings  # the summary's findings, every one of them in each message
    (slack,) = hooks.accepted("/slack/T0/B0/x")
    (teams,) = hooks.accepted("/teams/w")
    slack_text = slack.json["text"]
    card = teams.json["attachments"][0]["content"]
    # what a reader sees: Teams shows the card's escaped Markdown as the plain text
    card_text = plain("\n".join(block.get("text", "") for block in card["body"]))
    facts = {plain(f["title"]): plain(f["value"]) for f in card["body"][1]["facts"]}
    for finding in findings:
        assert finding in slack_text and finding in card_text
    overdue = "1 overdue: Rewrite the refund macros (Billing lead, due Sep 25, 2026)."
    assert "2 open actions, " + overdue in mail
    assert overdue in slack_text and overdue in card_text
    # no target: no status, and no dangling ", )" or "()"
    untargeted = next(line for line in slack_text.splitlines() if "CSAT untargeted:" in line)
    assert ", )" not in slack_text and "()" not in slack_text
    assert untargeted.endswith(")") and "," not in untargeted.split("(", 1)[1]
    assert ", )" not in facts["CSAT untargeted"] and "()" not in facts["CSAT untargeted"]


def test_five_summary_findings_reach_every_channel_and_no_kpi_leaves_empty_brackets():
    findings = tuple(f"Finding number {i} of the summary." for i in range(1, 6))
    content = MailContent(
        report_id="r", title="Report", organisation="Org", period_key="2026-09",
        period_label="September 2026", date_range="1-30 Sep 2026", findings=findings,
        kpis=(KpiLine("CSAT", "78.2%", "−3.7 pts", "Off target"),
              KpiLine("Effort", "5.2", "+0.1", ""), KpiLine("New metric", "12", "", "")),
        actions="3 open actions, 1 overdue: Fix it (Lead, due Sep 25, 2026).")
    message = chat_message(content, ChatSpec(), link=None)
    slack = "\n".join(b["text"]["text"] for b in blocks_of(message)[1:])
    card = card_of(message)["attachments"][0]["content"]
    teams = plain("\n".join(b.get("text", "") for b in card["body"]))
    mail, _ = render_bodies(content, [])
    for said in (message.text, slack, teams, mail):
        assert all(f in said for f in findings)
        assert "1 overdue: Fix it (Lead, due Sep 25, 2026)." in said
    assert message.kpis == ("CSAT: 78.2% (−3.7 pts, Off target)", "Effort: 5.2 (+0.1)",
                            "New metric: 12")
    facts = [plain(f["value"]) for f in card["body"][1]["facts"]]
    assert facts == ["78.2% (−3.7 pts, Off target)", "5.2 (+0.1)", "12"]
