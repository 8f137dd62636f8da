"""Approval before delivery: a scheduled run of a report that needs approval is built and
waits; its approver is asked once; recipients get nothing until the approval, then exactly
one message each; a run left waiting past its deadline alerts the owner once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient
from support.web_site import (
    NOW,
    PASSWORDS,
    RECIPIENTS,
    add_accounts,
    approval_form,
    csrf_of,
    make_config,
)

from reportgen.plan import load_definition
from reportgen.run.runner import run_report
from reportgen.web import create_app
from reportgen.web.app import check_approvals


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def setup(tmp_path, demo_dir, smtp_server):
    config = make_config(tmp_path, demo_dir, smtp_server)
    clock = Clock()
    config.now = clock
    path = config.definitions / "csat-mini.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["approval"] = {"required": True, "approvers": ["alex@example.com"],
                        "deadline_hours": 24}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    app = create_app(config)
    add_accounts(app.state.store)
    return app, config, clock, path


def _sign_in(app, name):
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    assert client.post("/login", data={"name": name, "password": PASSWORDS[name],
                                       "csrf_token": token},
                       follow_redirects=False).status_code == 303
    return client


def _scheduled_run(app, config, clock, path):
    loaded = load_definition(path)
    period = loaded.definition.period
    from reportgen.period import Period

    return run_report(loaded, Period.parse("2026-09", period.grain, period.timezone),
                      trigger="schedule", ledger=app.state.ledger,
                      out_dir=config.settings.resolved_out_dir(), send=True,
                      smtp=config.settings.smtp, now=clock)


def test_a_scheduled_run_waits_for_approval_and_then_reaches_each_recipient_once(
        setup, smtp_server):
    app, config, clock, path = setup
    record = _scheduled_run(app, config, clock, path)
    assert record.status == "pending_approval" and record.artifacts
    asked = smtp_server.wait_for(1)
    assert [list(m.rcpt_tos) for m in asked] == [["alex@example.com"]]
    assert "waits for your approval" in asked[0].message.get_body(("plain",)).get_content()

    # the next scheduled attempt for the same period asks nobody again and sends nothing
    clock.now += timedelta(hours=1)
    assert _scheduled_run(app, config, clock, path).status == "pending_approval"
    assert len(smtp_server.received) == 1
    assert not [d for r in app.state.ledger.history("csat-mini") for d in r.deliveries
                if d.channel == "email"]

    # an approver who is not named for this report is refused
    other = app.state.store.add_user("bea", "bea@example.com", "approver", "approver pass 2")
    assert other.may("approver")
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"name": "bea", "password": "approver pass 2",
                                "csrf_token": token})
    page = client.get("/reports/csat-mini").text
    assert "pending_approval" in page
    refused = client.post(f"/runs/{record.id}/approve", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 403 and len(smtp_server.received) == 1

    approver = _sign_in(app, "alex")
    form = approval_form(approver, record.id)
    for _ in range(2):  # a second press sends nothing more
        response = approver.post(f"/runs/{record.id}/approve", data=form,
                                 follow_redirects=False)
        assert response.status_code == 303
    by_recipient = smtp_server.by_recipient()
    assert {r: len(by_recipient.get(r, [])) for r in RECIPIENTS} == {r: 1 for r in RECIPIENTS}
    approved = app.state.ledger.get_run(record.id)
    assert approved.status == "succeeded"
    assert sorted(d.recipient for d in approved.deliveries
                  if d.channel == "email" and d.status == "sent") == sorted(RECIPIENTS)


def test_a_run_waiting_past_its_deadline_alerts_the_owner_once(setup, smtp_server):
    app, config, clock, path = setup
    record = _scheduled_run(app, config, clock, path)
    smtp_server.wait_for(1)  # the approver's request
    clock.now = record.started_at + timedelta(hours=23, minutes=59)
    assert check_approvals(app) == []
    clock.now = record.started_at + timedelta(hours=24, minutes=1)
    assert [r.id for r in check_approvals(app)] == [record.id]
    assert [r.id for r in check_approvals(app)] == [record.id]  # still late, not re-alerted
    alerts = [m for m in smtp_server.wait_for(2) if "owner@example.com" in m.rcpt_tos]
    assert len(alerts) == 1
    assert "past its 24-hour deadline" in alerts[0].message.get_body(("plain",)).get_content()
    assert not set(RECIPIENTS) & {r for m in smtp_server.received for r in m.rcpt_tos}


def test_a_rejected_run_is_never_sent(setup, smtp_server):
    app, config, clock, path = setup
    record = _scheduled_run(app, config, clock, path)
    approver = _sign_in(app, "alex")
    token = csrf_of(approver.get("/reports/csat-mini").text)
    assert approver.post(f"/runs/{record.id}/reject", data={"csrf_token": token, "reason": ""}
                         ).status_code == 400
    approver.post(f"/runs/{record.id}/reject",
                  data={"csrf_token": token, "reason": "Billing numbers look wrong"})
    rejected = app.state.ledger.get_run(record.id)
    assert rejected.status == "rejected" and "Billing numbers look wrong" in rejected.error
    assert approver.post(f"/runs/{record.id}/approve",
                         data={"csrf_token": token}).status_code == 409
    clock.now += timedelta(days=3)
    assert check_approvals(app) == []  # a rejected run is not "waiting"
    # the approver was asked and the owner told of the rejection; no recipient got anything
    assert [list(m.rcpt_tos) for m in smtp_server.received] == [["alex@example.com"],
                                                                 ["owner@example.com"]]




def test_an_approval_that_cannot_send_is_not_recorded_and_the_run_keeps_waiting(
        setup, smtp_server):
    app, config, clock, path = setup
    record = _scheduled_run(app, config, clock, path)
    smtp_server.wait_for(1)  # the approver's request
    (pdf,) = [Path(a.path) for a in record.artifacts if a.format == "pdf"]
    kept = pdf.read_bytes()
    pdf.unlink()  # e.g. a disk that was cleaned up under the page
    approver = _sign_in(app, "alex")
    form = approval_form(approver, record.id)

    refused = approver.post(f"/runs/{record.id}/approve", data=form)

    assert refused.status_code == 409 and pdf.name in refused.text
    waiting = app.state.ledger.get_run(record.id)
    assert waiting.status == "pending_approval" and pdf.name in waiting.error
    assert pdf.name in approver.get(f"/runs/{record.id}").text  # the error is on its page
    assert app.state.store.approvals_of([record.id]) == {}
    (entry, *_) = app.state.store.audit_entries()
    assert (entry.action, entry.outcome) == ("approve", "failed")
    assert [list(m.rcpt_tos) for m in smtp_server.received] == [["alex@example.com"]]

    pdf.write_bytes(kept)  # put back: the same approval now goes out
    assert approver.post(f"/runs/{record.id}/approve", data=form,
                         follow_redirects=False).status_code == 303
    assert app.state.ledger.get_run(record.id).status == "succeeded"
    assert app.state.store.approvals_of([record.id])[record.id].decision == "approved"
    by_recipient = smtp_server.by_recipient()
    assert {r: len(by_recipient.get(r, [])) for r in RECIPIENTS} == {r: 1 for r in RECIPIENTS}


def test_an_approver_not_named_by_the_report_cannot_reject_it(setup, smtp_server):
    app, config, clock, path = setup
    record = _scheduled_run(app, config, clock, path)
    app.state.store.add_user("bea", "bea@example.com", "approver", "approver pass 2")
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"name": "bea", "password": "approver pass 2",
                                "csrf_token": token})
    page = client.get("/reports/csat-mini").text

    refused = client.post(f"/runs/{record.id}/reject",
                          data={"csrf_token": csrf_of(page), "reason": "I do not like it"})

    assert refused.status_code == 403
    assert app.state.ledger.get_run(record.id).status == "pending_approval"
    assert app.state.store.approvals_of([record.id]) == {}


def test_the_readme_approval_example_is_a_valid_approval_section():
    import re

    from support.web_site import REPO

    from reportgen.definition.schedule_specs import ApprovalSpec

    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
                 if b.startswith("approval:"))
    spec = ApprovalSpec.model_validate(yaml.safe_load(block)["approval"])
    assert spec.required and spec.deadline_hours == 24 and spec.approvers


def test_the_approver_approves_the_exact_file_they_saw(setup, smtp_server):
    import hashlib
    import re

    app, config, clock, path = setup
    record = _scheduled_run(app, config, clock, path)
    smtp_server.wait_for(1)  # the approver's request
    (pdf,) = [a for a in record.artifacts if a.format == "pdf"]
    approver = _sign_in(app, "alex")

    # the confirmation links the very file that will be attached, and names its sha256
    page = approver.get(f"/runs/{record.id}/send").text
    files = re.search(r'<ul id="files">(.*?)</ul>', page, re.S)[1]
    assert pdf.sha256 in files
    (link,) = re.findall(r'href="([^"]+)"', files)
    served = approver.get(link)
    assert served.status_code == 200 and hashlib.sha256(served.content).hexdigest() == pdf.sha256
    form = approval_form(approver, record.id)
    assert form["sha256"] == pdf.sha256

    def refused(data, words):
        answer = approver.post(f"/runs/{record.id}/approve", data=data)
        assert answer.status_code == 409, answer.text
        assert f"Run #{record.id} was not approved and nothing was sent" in answer.text
        assert words in answer.text and "Traceback" not in answer.text
        assert app.state.ledger.get_run(record.id).status == "pending_approval"
        assert app.state.store.approvals_of([record.id]) == {}
        (entry, *_) = app.state.store.audit_entries()
        assert (entry.action, entry.outcome) == ("approve", "refused")

    # a form that names no file, or another file than the run's, approves nothing
    refused({"csrf_token": form["csrf_token"]}, "does not say which file you looked at")
    refused({**form, "sha256": "0" * 64}, "no longer the one you looked at")
    # the file changed on disk after the approver looked at it
    kept = Path(pdf.path).read_bytes()
    Path(pdf.path).write_bytes(kept + b"\n% changed")
    refused(form, "its pdf file changed on disk after you looked at it")
    assert [list(m.rcpt_tos) for m in smtp_server.received] == [["alex@example.com"]]

    Path(pdf.path).write_bytes(kept)  # the file the approver saw: it goes out
    assert approver.post(f"/runs/{record.id}/approve", data=form,
                         follow_redirects=False).status_code == 303
    by_recipient = smtp_server.by_recipient()
    assert {r: len(by_recipient.get(r, [])) for r in RECIPIENTS} == {r: 1 for r in RECIPIENTS}
    attached = by_recipient[RECIPIENTS[0]][0].message.get_payload()[-1].get_payload(decode=True)
    assert hashlib.sha256(attached).hexdigest() == pdf.sha256


def test_the_approval_request_carries_the_headline_kpis_and_links_to_the_run(setup,
                                                                              smtp_server):
    from reportgen.period import Period

    app, config, clock, path = setup
    loaded = load_definition(path)
    spec = loaded.definition.period
    record = run_report(loaded, Period.parse("2026-09", spec.grain, spec.timezone),
                        trigger="schedule", ledger=app.state.ledger,
                        out_dir=config.settings.resolved_out_dir(), send=True,
                        smtp=config.settings.smtp, now=clock,
                        public_url="https://reports.example.com/")
    assert record.status == "pending_approval"
    (asked,) = smtp_server.wait_for(1)
    assert list(asked.rcpt_tos) == ["alex@example.com"]
    body = asked.message.get_body(("plain",)).get_content()
    # the numbers as the report states them: the run's own headline, kept in the ledger
    kpis = record.summary["mail"]["kpis"]
    assert kpis
    for kpi in kpis:
        assert f"- {kpi['label']}: {kpi['value_text']} ({kpi['delta_text']})" in body, body
    # and where to approve it: the run, not the report
    assert f"https://reports.example.com/runs/{record.id} " in body
    assert "/reports/csat-mini" not in body
