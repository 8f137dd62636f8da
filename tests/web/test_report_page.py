"""The report page says what the report is (description, owner, schedule in words with the
next runs, recipients, approval, gates, last sent run), and its preview opens on the newest
period with data and explains a gate hold inside the page, with a way to look anyway."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import yaml
from starlette.testclient import TestClient
from support.web_site import PASSWORDS, RECIPIENTS, add_accounts, csrf_of, make_config

from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.runner import run_report
from reportgen.web import create_app


def _app(tmp_path, demo_dir, smtp_server, **changes):
    config = make_config(tmp_path, demo_dir, smtp_server)
    path = config.definitions / "csat-mini.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    app = create_app(config)
    add_accounts(app.state.store)
    return app, config, path


def _sign_in(app, name):
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf_token": token})
    return client


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(dd|p|div|span)>', html, re.S)
    assert match, f"no #{element_id} on the page"
    return re.sub(r"<[^>]+>", " ", match[1])


def test_the_report_page_says_what_the_report_is_and_who_gets_it(tmp_path, demo_dir,
                                                                  smtp_server):
    app, config, path = _app(
        tmp_path, demo_dir, smtp_server,
        description="Monthly CSAT by queue for the support leads.",
        gates=[{"kind": "min_rows", "source": "responses", "min": 50}])
    client = _sign_in(app, "vic")
    page = client.get("/reports/csat-mini").text
    assert "Monthly CSAT by queue for the support leads." in _text(page, "description")
    assert "owner@example.com" in page
    schedule = _text(page, "schedule")
    assert "At 07:00, on day 2 of the month (Europe/Berlin)" in schedule
    # the clock is 5 October 2026: the next runs are 2 November, 2 December, 2 January,
    # at 07:00 Berlin time (CET, after the clocks went back on 25 October)
    assert "Nov 2, 2026, 7:00 AM CET; Dec 2, 2026, 7:00 AM CET; " \
           "Jan 2, 2027, 7:00 AM CET" in schedule
    recipients = _text(page, "recipients")
    assert all(address in recipients for address in RECIPIENTS)
    assert "not needed" in _text(page, "approval")
    assert "at least 50 rows in responses; otherwise it holds the report" in _text(page, "gates")
    assert "nothing sent yet" in _text(page, "last-sent")

    # once a run is delivered, it is the period's last sent run
    loaded = load_definition(path)
    spec = loaded.definition.period
    run = run_report(loaded, Period.parse("2026-09", spec.grain, spec.timezone),
                     trigger="schedule", ledger=app.state.ledger,
                     out_dir=config.settings.resolved_out_dir(), send=True,
                     smtp=config.settings.smtp, now=config.now)
    assert run.status == "succeeded"
    page = client.get("/reports/csat-mini").text
    assert f"2026-09: run #{run.id}" in re.sub(r"\s+", " ", _text(page, "last-sent"))

    listing = client.get("/").text
    row = re.search(r'<tr data-report="csat-mini">.*?</tr>', listing, re.S)[0]
    assert "At 07:00, on day 2 of the month" in row and "<code>" not in row


def test_the_approval_and_approvers_are_named(tmp_path, demo_dir, smtp_server):
    app, _, _ = _app(tmp_path, demo_dir, smtp_server,
                     approval={"required": True, "approvers": ["alex@example.com"],
                               "deadline_hours": 12})
    page = _sign_in(app, "vic").get("/reports/csat-mini").text
    assert "by alex@example.com, within 12 hours" in _text(page, "approval")


def test_the_preview_opens_on_the_newest_period_with_data(tmp_path, demo_dir, smtp_server):
    app, config, _ = _app(tmp_path, demo_dir, smtp_server)
    # December 2026: November is the last complete month, but the data ends in September
    config.now = lambda: datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    client = _sign_in(app, "vic")
    page = client.get("/reports/csat-mini/preview")
    assert page.status_code == 200
    heading = re.search(r"<h1>(.*?)</h1>", page.text, re.S)[1]
    assert "September 2026" in heading
    assert 'src="/reports/csat-mini/preview/page?period=2026-09"' in page.text
    report = client.get("/reports/csat-mini").text
    assert re.search(r'<option value="2026-09" selected>', report)


def test_a_held_period_is_explained_in_the_page_and_can_be_previewed_anyway(
        tmp_path, demo_dir, smtp_server):
    app, _, _ = _app(tmp_path, demo_dir, smtp_server,
                     gates=[{"kind": "min_rows", "source": "responses", "min": 10_000_000}])
    client = _sign_in(app, "vic")
    page = client.get("/reports/csat-mini/preview?period=2026-09")
    assert page.status_code == 200
    held = re.search(r'<div class="notice held" id="held".*?</div>', page.text, re.S)[0]
    assert "September 2026 is held by the report's data-quality gates" in held
    assert "at least 10,000,000 expected" in held  # the gate's own reason
    link = re.search(r'<a id="preview-anyway" href="([^"]+)"', page.text)[1]
    anyway = client.get("/reports/csat-mini/preview" + link.replace("&amp;", "&"))
    assert anyway.status_code == 200
    assert '<span class="status held">held</span>' in anyway.text
    document = re.search(r'<iframe title="Report preview" sandbox src="([^"]+)"', anyway.text)[1]
    shown = client.get(document.replace("&amp;", "&"))
    assert shown.status_code == 200 and "Voice of the customer" in shown.text
