"""The web page in a real browser (Debian's Chromium through Playwright), end to end:
sign in, see the reports, preview, regenerate and watch it finish, send a test to me,
approve, and each recipient receives the report exactly once.

Screenshots of each page go to $REPORTGEN_SCREENSHOTS when set (else the test's folder).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from support.web_site import PASSWORDS, RECIPIENTS, make_config, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run scripts/bootstrap-system.sh test")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(tmp_path, demo_dir, smtp_server):
    running = serve(make_config(tmp_path, demo_dir, smtp_server))
    yield running
    running.stop()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("REPORTGEN_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sign_in(browser: Browser, url: str, name: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))  # nothing without signing in
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    return page


def test_sign_in_preview_regenerate_test_send_and_approve(browser, site, smtp_server, shots):
    page = _sign_in(browser, site.url, "alex")
    reports = page.locator("#reports")
    for title in ("Monthly Quality Report", "Quarterly Business Review", "CSAT Mini Report"):
        expect(reports).to_contain_text(title)
    expect(page.locator('tr[data-report="broken"]')).to_contain_text("invalid, not scheduled")
    page.screenshot(path=shots / "1-reports.png", full_page=True)

    page.get_by_role("link", name="CSAT Mini Report").click()
    expect(page.get_by_role("heading", name="CSAT Mini Report")).to_be_visible()
    expect(page.locator("#runs")).to_contain_text("No runs yet.")

    # preview September 2026: the report's own pages, nothing sent before it
    page.get_by_label("Period to preview").select_option("2026-09")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#changes")).to_contain_text("Nothing has been sent yet")
    frame = page.frame_locator("iframe[title='Report preview']")
    expect(frame.locator("body")).to_contain_text("Voice of the customer", timeout=60_000)
    expect(frame.locator("body")).to_contain_text("September 2026")
    page.screenshot(path=shots / "2-preview.png")
    page.go_back()

    # regenerate, and watch the job page follow the run to its end
    page.get_by_label("Period to regenerate").select_option("2026-09")
    page.get_by_role("button", name="Regenerate").click()
    expect(page.locator("#job-state")).to_have_text("finished", timeout=120_000)
    expect(page.locator("#job-result")).to_have_text(re.compile(r"Run #\d+: succeeded"))
    page.screenshot(path=shots / "3-regenerate.png")
    run_id = int(re.search(r"#(\d+)", page.locator("#job-result").inner_text())[1])
    run = site.app.state.ledger.get_run(run_id)
    assert run.status == "succeeded" and not run.deliveries  # built, sent to nobody yet

    page.get_by_role("link", name="Back to the report").click()
    row = page.locator(f"#run-{run_id}")
    expect(row).to_contain_text("succeeded")

    # the file link serves exactly the bytes the ledger recorded
    href = row.get_by_role("link", name="pdf").get_attribute("href")
    download = page.request.get(site.url + href)
    assert download.ok and hashlib.sha256(download.body()).hexdigest() == run.artifacts[0].sha256

    # a test to me goes to my own address only
    row.get_by_role("button", name="Send a test to me").click()
    expect(page.get_by_role("status")).to_contain_text("Test sent to alex@example.com")
    test_mail = smtp_server.wait_for(1)
    assert [list(m.rcpt_tos) for m in test_mail] == [["alex@example.com"]]

    # sending reaches the definition's recipients, once each, however often it is pressed
    # (this report needs no approval: a plain Send, after a confirmation)
    page.locator(f"#run-{run_id}").get_by_role("button", name="Send…").click()
    # nothing goes out before the confirmation, which names every recipient
    expect(page.locator("#recipients")).to_contain_text(RECIPIENTS[0])
    assert not set(RECIPIENTS) & set(smtp_server.by_recipient())
    page.get_by_role("button", name="Send to").click()
    expect(page.get_by_role("status")).to_contain_text(f"run #{run_id} to {len(RECIPIENTS)}")
    row = page.locator(f"#run-{run_id}")
    page.screenshot(path=shots / "4-report.png", full_page=True)
    # delivered: the button is gone, and a second send posted anyway sends nothing
    expect(row.get_by_role("button", name="Send…")).to_have_count(0)
    token = row.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert page.request.post(site.url + f"/runs/{run_id}/send",
                             form={"csrf_token": token}).ok
    by_recipient = smtp_server.by_recipient()
    assert sorted(by_recipient) == sorted([*RECIPIENTS, "alex@example.com"])
    assert all(len(by_recipient[r]) == 1 for r in RECIPIENTS), by_recipient
    sent = [d for d in site.app.state.ledger.get_run(run_id).deliveries
            if d.status == "sent" and d.purpose == "delivery"]
    assert sorted(d.recipient for d in sent) == sorted(RECIPIENTS)

    # the preview of the month just sent compares it with itself as sent: nothing differs
    page.goto(site.url + "/reports/csat-mini/preview?period=2026-09")
    expect(page.locator("#changes")).to_contain_text(
        f"Compared with September 2026 as it was sent: run #{run_id}")
    expect(page.locator("#kpi-changes")).to_contain_text("No headline KPI differs")
    page.screenshot(path=shots / "5-preview-changes.png")

    # someone without a session gets neither the page nor the file
    anonymous = browser.new_page()
    response = anonymous.goto(site.url + href)
    assert anonymous.url.startswith(site.url + "/login")
    assert not response.body().startswith(b"%PDF")
    anonymous.screenshot(path=shots / "0-sign-in.png")


def test_a_viewer_sees_no_actions_and_is_refused_them(browser, site, smtp_server, shots):
    page = _sign_in(browser, site.url, "vic")
    page.get_by_role("link", name="CSAT Mini Report").click()
    expect(page.get_by_role("button", name="Preview")).to_be_visible()
    expect(page.get_by_role("button", name="Regenerate")).to_have_count(0)
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    refused = page.request.post(site.url + "/reports/csat-mini/regenerate",
                                form={"csrf_token": token, "period": "2026-09"})
    assert refused.status == 403
    run_id = site.app.state.ledger.start_run("csat-mini", "2026-09", trigger="manual",
                                             definition_hash="h", code_version="t")
    site.app.state.ledger.finish_run(run_id, "succeeded")
    refused = page.request.post(site.url + f"/runs/{run_id}/approve", form={"csrf_token": token})
    assert refused.status == 403 and "approver role" in refused.text()
    page.goto(site.url + "/audit")
    expect(page.get_by_role("alert")).to_contain_text("admin role")
    page.screenshot(path=shots / "6-viewer-refused.png")
    assert smtp_server.received == [] and len(site.app.state.ledger.history()) == 1

    admin = _sign_in(browser, site.url, "root")
    admin.goto(site.url + "/audit")
    audit = admin.locator("#audit")
    expect(audit).to_contain_text("forbidden")
    expect(audit).to_contain_text(f"/runs/{run_id}/approve")
    admin.screenshot(path=shots / "7-audit.png", full_page=True)
