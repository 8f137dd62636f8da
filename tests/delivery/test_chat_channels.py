"""Slack and Teams beside e-mail: posts received by a loopback webhook server, exactly once
per report and period across retries and reruns; a failed webhook is a recorded failure."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import pytest
import yaml
from support.smtp_server import smtp_settings
from support.web_site import mini_definition
from support.webhook_server import WebhookServer

from reportgen.errors import DefinitionError
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


def _definition(demo_dir: Path, folder: Path, **delivery) -> Path:
    path = mini_definition(demo_dir, folder)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["delivery"].update(delivery)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _run(path: Path, tmp_path: Path, server, environ) -> object:
    return run_report(load_definition(path), SEPTEMBER, trigger="schedule",
                      ledger=Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}"),
                      out_dir=tmp_path / "out", send=True, smtp=smtp_settings(server),
                      environ=environ, sleep=lambda _: None)


def test_slack_and_teams_get_the_headline_once_across_a_retry_and_a_rerun(
        demo_dir, tmp_path, smtp_server, hooks):
    path = _definition(demo_dir, tmp_path,
                       slack={"webhook_env": "QA_SLACK_WEBHOOK", "message": "{title}: {period}"},
                       teams={"webhook_env": "QA_TEAMS_WEBHOOK"})
    environ = {"QA_SLACK_WEBHOOK": hooks.url + "/slack/T0/B0/secret",
               "QA_TEAMS_WEBHOOK": hooks.url + "/teams/workflow"}
    hooks.answers = [503]  # Slack has a bad moment on the first try
    record = _run(path, tmp_path, smtp_server, environ)
    assert record.status == "succeeded", record.error
    slack = hooks.accepted("/slack/T0/B0/secret")
    teams = hooks.accepted("/teams/workflow")
    assert len(slack) == 1 and len(teams) == 1
    assert [p.status for p in hooks.posts if p.path.startswith("/slack")] == [503, 200]

    text = slack[0].json["text"]
    assert text.splitlines()[0] == "CSAT Mini Report: September 2026"
    mail = smtp_server.wait_for(2)[0].message.get_body(("plain",)).get_content()
    csat_line = next(line for line in mail.splitlines() if "CSAT:" in line)
    csat_value = csat_line.split(":")[1].split()[0]  # the value the e-mail shows
    assert f"CSAT: {csat_value}" in text
    card = teams[0].json["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == "CSAT Mini Report — September 2026"
    assert {"title": "CSAT", "value": csat_value} == {
        "title": card["body"][1]["facts"][0]["title"],
        "value": card["body"][1]["facts"][0]["value"].split()[0]}

    rows = {(d.channel, d.recipient): d for d in record.deliveries}
    assert rows["slack", "webhook:QA_SLACK_WEBHOOK"].status == "sent"
    assert rows["slack", "webhook:QA_SLACK_WEBHOOK"].attempts == 2
    assert rows["teams", "webhook:QA_TEAMS_WEBHOOK"].status == "sent"
    assert "secret" not in str(record.deliveries)  # the URL is a secret, never recorded

    # a second run of the same period posts nothing again
    posts = len(hooks.posts)
    again = _run(path, tmp_path, smtp_server, environ)
    assert again.status == "succeeded" and len(hooks.posts) == posts


def test_a_refused_webhook_is_a_recorded_failure_and_not_retried(demo_dir, tmp_path,
                                                                 smtp_server, hooks):
    path = _definition(demo_dir, tmp_path, teams={"webhook_env": "QA_TEAMS_WEBHOOK"},
                       slack={"webhook_env": "QA_SLACK_MISSING"})
    hooks.answers = [404]
    record = _run(path, tmp_path, smtp_server, {"QA_TEAMS_WEBHOOK": hooks.url + "/gone"})
    assert len(hooks.posts) == 1  # 404 will not get better: one try
    assert record.status == "partial"  # the e-mail reached its recipients
    rows = {d.channel: d for d in record.deliveries if d.channel != "email"}
    assert rows["teams"].status == "failed_permanent" and "HTTP 404" in rows["teams"].last_error
    assert rows["slack"].status == "failed_permanent"
    assert "QA_SLACK_MISSING is not set" in rows["slack"].last_error
    assert record.error.startswith("not posted to ")
    assert "webhook:QA_TEAMS_WEBHOOK (failed_permanent: Teams answered HTTP 404" in record.error


@pytest.mark.parametrize("message, problem", [
    ("{title} for {quarter}", "unknown placeholder '{quarter}'"),
    ("{title!r}", "unknown placeholder '{title}'"),
    ("{title", "not a valid template"),
])
def test_message_templates_are_checked_when_the_definition_loads(demo_dir, tmp_path, message,
                                                                 problem):
    path = _definition(demo_dir, tmp_path, slack={"webhook_env": "X", "message": message})
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    text = str(caught.value)
    assert problem in text and "delivery.slack.message" in text
    assert f"{path}:" in text  # located in the file


def test_a_slack_webhook_cannot_name_a_channel_or_files(demo_dir, tmp_path):
    path = _definition(demo_dir, tmp_path,
                       slack={"webhook_env": "X", "channel": "C1", "attach": ["pdf"]})
    with pytest.raises(DefinitionError, match="need a bot token"):
        load_definition(path)


def test_a_slack_bot_token_uploads_the_report_file_once(demo_dir, tmp_path, smtp_server,
                                                        hooks):
    path = _definition(demo_dir, tmp_path, slack={"token_env": "QA_SLACK_TOKEN",
                                                  "channel": "C0QUALITY", "attach": ["pdf"]})
    environ = {"QA_SLACK_TOKEN": "xoxb-test-token",
               "REPORTGEN_SLACK_API_URL": hooks.url + "/api/"}
    record = _run(path, tmp_path, smtp_server, environ)
    assert record.status == "succeeded", record.error
    calls = [p.path.rsplit("/", 1)[-1] for p in hooks.posts]
    assert calls == ["files.getUploadURLExternal", "F0REPORT", "files.completeUploadExternal"]
    pdf = Path(record.artifacts[0].path).read_bytes()
    assert hooks.posts[1].body == pdf  # the recorded file, byte for byte
    completed = parse_qs(hooks.posts[2].body.decode())
    assert completed["channel_id"] == ["C0QUALITY"]
    assert completed["initial_comment"][0].startswith("CSAT Mini Report — September 2026")
    row = next(d for d in record.deliveries if d.channel == "slack")
    assert (row.recipient, row.status, row.attempts) == ("C0QUALITY", "sent", 1)
    _run(path, tmp_path, smtp_server, environ)
    assert len(hooks.posts) == 3  # not uploaded again


def test_the_readme_chat_example_is_a_valid_delivery_section():
    import re

    from support.web_site import REPO

    from reportgen.definition.delivery_specs import DeliverySpec

    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
                 if "slack:" in b)
    spec = DeliverySpec.model_validate(yaml.safe_load(block)["delivery"])
    assert spec.slack.webhook_env == "QA_SLACK_WEBHOOK"
    assert spec.teams.webhook_env == "QA_TEAMS_WEBHOOK"


def test_scheduled_and_manual_runs_link_to_the_run_page_when_the_page_address_is_set(
        tmp_path, smtp_server, hooks, monkeypatch):
    from support.standin_pipeline import RECIPIENTS, definition_text, settings_file, write_rows

    from reportgen.cli import main
    from reportgen.executors.scheduler import run_scheduled_job

    folder = tmp_path / "defs"
    folder.mkdir()
    definition = folder / "mqr.yaml"
    delivery = {"email": {**RECIPIENTS}, "slack": {"webhook_env": "QA_SLACK_WEBHOOK"},
                "teams": {"webhook_env": "QA_TEAMS_WEBHOOK"}}
    definition.write_text(definition_text(extra={"delivery": delivery}), encoding="utf-8")
    write_rows(folder / "tickets.csv", Period.parse("2026-09", "month", "Europe/Berlin"), 12)
    monkeypatch.setenv("QA_SLACK_WEBHOOK", hooks.url + "/slack/T0/B0/secret")
    monkeypatch.setenv("QA_TEAMS_WEBHOOK", hooks.url + "/teams/workflow")
    base = "https://reports.example.com/quality/"
    settings = settings_file(tmp_path, smtp_server, web={"public_url": base})

    outcome = run_scheduled_job(str(definition), str(settings), "2026-09", trigger="schedule")
    assert outcome.status == "succeeded"
    link = f"https://reports.example.com/quality/runs/{outcome.run_id}"
    (slack,) = hooks.accepted("/slack/T0/B0/secret")
    assert f"<{link}|Open the full report>" in str(slack.json["blocks"])
    (teams,) = hooks.accepted("/teams/workflow")
    actions = teams.json["attachments"][0]["content"]["actions"]
    assert [a["url"] for a in actions] == [link]
    mails = smtp_server.wait_for(sum(len(v) for v in RECIPIENTS.values()))
    for mail in mails:
        assert f"On the web page: {link}" in mail.message.get_body(("plain",)).get_content()
        assert f'href="{link}"' in mail.message.get_body(("html",)).get_content()
    # the link is to the run's page, never to a file: no artifact name or token is in it
    assert not any(Path(a.path).name in str(slack.json) for a in
                   Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}").get_run(
                       outcome.run_id).artifacts)

    # a manual run (another period) links to its own run
    write_rows(folder / "tickets.csv", Period.parse("2026-08", "month", "Europe/Berlin"), 12)
    assert main(["run", str(definition), "--period", "2026-08", "--send", "--settings",
                 str(settings), "--out", str(tmp_path / "out")]) == 0
    manual = Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}").history("mqr", limit=1)[0]
    assert manual.period == "2026-08"
    latest = hooks.accepted("/slack/T0/B0/secret")[-1]
    assert f"quality/runs/{manual.id}|" in str(latest.json["blocks"])


def test_without_a_page_address_messages_carry_no_link(demo_dir, tmp_path, smtp_server, hooks):
    path = _definition(demo_dir, tmp_path, slack={"webhook_env": "QA_SLACK_WEBHOOK"})
    record = _run(path, tmp_path, smtp_server, {"QA_SLACK_WEBHOOK": hooks.url + "/slack/x"})
    assert record.status == "succeeded"
    (slack,) = hooks.accepted("/slack/x")
    assert "Open the full report" not in str(slack.json) and "/runs/" not in str(slack.json)
    mail = smtp_server.wait_for(2)[0].message.get_body(("plain",)).get_content()
    assert "On the web page" not in mail
