"""Sending from the page is never one unguarded click: a confirmation names every recipient
first, "Approve" shows only where an approval is due, a test is marked as one, and a
rejection tells the report's owner why."""

from __future__ import annotations

import re

import pytest
import yaml
from starlette.testclient import TestClient
from support.web_site import PASSWORDS, RECIPIENTS, add_accounts, csrf_of, make_config

from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.runner import run_report
from reportgen.web import create_app

BANNER = "TEST: this copy was sent only to you"


def _app(tmp_path, demo_dir, smtp_server, *, approval: bool):
    config = make_config(tmp_path, demo_dir, smtp_server)
    path = config.definitions / "csat-mini.yaml"
    if approval:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["approval"] = {"required": True, "approvers": ["alex@example.com"]}
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
    app = create_app(config)
    add_accounts(app.state.store)
    loaded = load_definition(path)
    spec = loaded.definition.period
    run = run_report(loaded, Period.parse("2026-09", spec.grain, spec.timezone),
                     trigger="schedule", ledger=app.state.ledger,
                     out_dir=config.settings.resolved_out_dir(), send=approval,
                     smtp=config.settings.smtp, now=config.now)
    return app, run


def _sign_in(app, name):
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    assert client.post("/login", data={"name": name, "password": PASSWORDS[name],
                                       "csrf_token": token},
                       follow_redirects=False).status_code == 303
    return client


def _row(page: str, run_id: int) -> str:
    match = re.search(rf'<tr id="run-{run_id}".*?</tr>', page, re.S)
    assert match, f"run #{run_id} is not on the page"
    return match[0]


@pytest.fixture
def plain(tmp_path, demo_dir, smtp_server):
    return _app(tmp_path, demo_dir, smtp_server, approval=False)


@pytest.fixture
def gated(tmp_path, demo_dir, smtp_server):
    return _app(tmp_path, demo_dir, smtp_server, approval=True)


def test_a_send_lists_its_recipients_first_and_reports_how_it_went(plain, smtp_server):
    app, run = plain
    assert run.status == "succeeded" and not run.deliveries
    analyst = _sign_in(app, "ana")
    row = _row(analyst.get("/reports/csat-mini").text, run.id)
    assert "Send…" in row and "Approve" not in row  # no approval is due for this report

    confirm = analyst.get(f"/runs/{run.id}/send")
    assert confirm.status_code == 200
    table = re.search(r'<table id="recipients">.*?</table>', confirm.text, re.S)[0]
    for address in RECIPIENTS:
        assert address in table
    assert "to 2 recipients" in confirm.text
    assert smtp_server.received == []  # looking at the confirmation sends nothing

    done = analyst.post(f"/runs/{run.id}/send", data={"csrf_token": csrf_of(confirm.text)})
    assert done.status_code == 200
    notice = re.search(r'<p class="notice" role="status" id="notice">(.*?)</p>', done.text)[1]
    assert f"Sent run #{run.id} to 2 recipients" in notice
    assert all(address in notice for address in RECIPIENTS)
    by_recipient = smtp_server.by_recipient()
    assert {r: len(by_recipient.get(r, [])) for r in RECIPIENTS} == {r: 1 for r in RECIPIENTS}
    assert "Send…" not in _row(done.text, run.id)  # delivered: nothing left to send
    assert app.state.store.audit_entries()[0].action == "send"


def test_a_viewer_can_neither_see_nor_use_the_send(plain, smtp_server):
    app, run = plain
    viewer = _sign_in(app, "vic")
    page = viewer.get("/reports/csat-mini").text
    assert "Send…" not in page
    assert viewer.get(f"/runs/{run.id}/send").status_code == 403
    assert viewer.post(f"/runs/{run.id}/send",
                       data={"csrf_token": csrf_of(page)}).status_code == 403
    assert smtp_server.received == []


def test_approve_shows_only_where_an_approval_is_due(gated, smtp_server):
    app, run = gated
    assert run.status == "pending_approval"
    smtp_server.wait_for(1)  # the approver was asked
    approver = _sign_in(app, "alex")
    row = _row(approver.get("/reports/csat-mini").text, run.id)
    assert "Approve…" in row and "Send…" not in row
    confirm = approver.get(f"/runs/{run.id}/send").text
    assert "Approve and send to 2 recipients" in confirm
    assert all(address in confirm for address in RECIPIENTS)
    # an analyst cannot go round the approval with a plain send
    analyst = _sign_in(app, "ana")
    page = analyst.get("/reports/csat-mini").text
    assert "Approve…" not in _row(page, run.id) and "Send…" not in _row(page, run.id)
    assert analyst.post(f"/runs/{run.id}/send",
                        data={"csrf_token": csrf_of(page)}).status_code == 409
    assert len(smtp_server.received) == 1


def test_a_test_email_is_marked_as_a_test(plain, smtp_server):
    app, run = plain
    analyst = _sign_in(app, "ana")
    page = analyst.get("/reports/csat-mini").text
    done = analyst.post(f"/runs/{run.id}/test-send", data={"csrf_token": csrf_of(page)})
    [mail] = smtp_server.wait_for(1)
    assert list(mail.rcpt_tos) == ["ana@example.com"]
    assert mail.message["Subject"].startswith("[TEST] ")
    assert mail.message["Subject"].endswith("CSAT Mini Report — September 2026")
    assert BANNER in mail.message.get_body(("plain",)).get_content()
    assert BANNER in mail.message.get_body(("html",)).get_content()
    row = _row(done.text, run.id)
    assert "(test)" in row and "resend" not in row
    assert "Test sent to ana@example.com only" in done.text


def test_a_rejection_emails_the_owner_with_the_reason(gated, smtp_server):
    app, run = gated
    smtp_server.wait_for(1)  # the approver was asked
    approver = _sign_in(app, "alex")
    page = approver.get("/reports/csat-mini").text
    done = approver.post(f"/runs/{run.id}/reject",
                         data={"csrf_token": csrf_of(page),
                               "reason": "Billing CSAT looks wrong; check the import"})
    assert "owner@example.com was e-mailed the reason" in done.text
    [told] = [m for m in smtp_server.wait_for(2) if "owner@example.com" in m.rcpt_tos]
    assert told.message["Subject"].startswith("[rejected] CSAT Mini Report")
    body = told.message.get_body(("plain",)).get_content()
    assert "Billing CSAT looks wrong; check the import" in body and "alex" in body
    assert not set(RECIPIENTS) & {r for m in smtp_server.received for r in m.rcpt_tos}
