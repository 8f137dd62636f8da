"""A fan-out report on the web page, in a real browser: its run shows each segment with its
status, files and deliveries per recipient and channel; one segment is previewed,
regenerated and test-sent on its own; and a run whose files were pruned says when.

Screenshots go to $REPORTGEN_SCREENSHOTS when set (else the test's folder).
"""

from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import expect
from support.fanout_defs import QUEUES, expected_recipients, lead, write_fanout
from support.web_site import NOW, make_config, serve
from test_web_browser import _sign_in, browser, shots  # noqa: F401 (fixtures)

from reportgen.ledger.retention import prune_runs
from reportgen.period import Period
from reportgen.run.runner import run_fanout
from reportgen.settings import RetentionSettings

SEPTEMBER = Period.parse("2026-09", "month", "Europe/Berlin")


@pytest.fixture
def site(tmp_path, demo_dir, smtp_server):
    config = make_config(tmp_path, demo_dir, smtp_server)
    config.settings = config.settings.model_copy(update={"jobs": 1,
                                                         "allowed_domains": ["example.com"]})
    write_fanout(config.definitions, demo_dir, "queues")
    running = serve(config)
    yield running
    running.stop()


def _fanout_run(site, *, send: bool = True) -> int:
    """The fan-out of September, sent to each queue's lead and the director (``send``)."""
    from reportgen.plan import load_definition

    config = site.app.state.config
    record = run_fanout(load_definition(config.definitions / "queues.yaml"), SEPTEMBER,
                        trigger="schedule" if send else "manual", ledger=site.app.state.ledger,
                        out_dir=config.settings.resolved_out_dir(), send=send,
                        smtp=config.settings.smtp, domains=["example.com"], jobs=1,
                        now=lambda: NOW)
    assert record.status == "succeeded", record.error
    return record.id


def test_a_fanout_run_shows_its_segments_and_each_is_previewed_regenerated_and_sent(
        browser, site, smtp_server, shots):  # noqa: F811 (fixtures)
    run_id = _fanout_run(site)
    children = site.app.state.ledger.children_of(run_id)
    assert [c.segment for c in children] == list(QUEUES)
    assert set(smtp_server.by_recipient()) == expected_recipients("queues")
    received = len(smtp_server.received)

    page = _sign_in(browser, site.url, "alex")
    listed = page.locator('tr[data-report="queues"]')
    expect(listed).to_contain_text("one per queue")
    expect(listed).to_contain_text(f"succeeded #{run_id} 2026-09")
    page.screenshot(path=shots / "9-reports-fanout.png", full_page=True)
    page.get_by_role("link", name="Queue scorecard").click()
    segments_row = page.locator(f'tr[data-segments-of="{run_id}"]')
    expect(segments_row).to_contain_text("3 segments")
    for queue in QUEUES:
        expect(segments_row).to_contain_text(queue)
    page.screenshot(path=shots / "10-report-fanout.png", full_page=True)

    segments_row.get_by_role("link", name="3 segments").click()
    expect(page.get_by_role("heading", name=re.compile(rf"Run #{run_id} "))).to_be_visible()
    table = page.locator("#segments")
    for child in children:
        row = table.locator(f"#run-{child.id}")
        expect(row).to_contain_text(child.segment)
        expect(row).to_contain_text("succeeded")
        # each segment's recipient, with its channel and what happened
        expect(row).to_contain_text(f"email {lead('queues', child.segment)} sent")
    # the whole report went to the director, on the fan-out's own row
    expect(page.locator(f"#run #run-{run_id}")).to_contain_text(
        "email director-queues@example.com sent")
    page.screenshot(path=shots / "11-run-fanout.png", full_page=True)

    # a segment's file is the one its run recorded
    billing = next(c for c in children if c.segment == "Billing")
    href = table.locator(f"#run-{billing.id}").get_by_role("link", name="xlsx").get_attribute(
        "href")
    body = page.request.get(site.url + href).body()
    assert hashlib.sha256(body).hexdigest() == billing.artifacts[0].sha256

    # preview one segment: its own title, in the browser
    table.locator(f"#run-{billing.id}").get_by_role("link", name="Preview").click()
    expect(page.get_by_role("heading", name=re.compile("Queue scorecard — Billing"))
           ).to_be_visible(timeout=60_000)
    frame = page.frame_locator("iframe[title='Report preview']")
    expect(frame.locator("body")).to_contain_text("Billing", timeout=60_000)
    expect(frame.locator("body")).to_contain_text("Operations")
    expect(page.get_by_label("Segment")).to_have_value("Billing")
    page.screenshot(path=shots / "12-preview-segment.png", full_page=True)
    page.go_back()

    # regenerate one segment: a new fan-out run with that segment alone, sent to nobody
    payments = next(c for c in children if c.segment == "Payments")
    page.locator(f"#run-{payments.id}").get_by_role("button", name="Regenerate Payments").click()
    expect(page.locator("#job-state")).to_have_text("finished", timeout=120_000)
    new_id = int(re.search(r"#(\d+)", page.locator("#job-result").inner_text())[1])
    (again,) = site.app.state.ledger.children_of(new_id)
    assert again.segment == "Payments" and again.status == "succeeded" and again.artifacts
    assert len(smtp_server.received) == received  # regenerating sends nothing

    # a test of that segment's report goes to me alone
    page.goto(site.url + f"/runs/{new_id}")
    page.locator(f"#run-{again.id}").get_by_role("button", name="Send a test to me").click()
    expect(page.get_by_role("status")).to_contain_text("Test sent to alex@example.com")
    mail = smtp_server.wait_for(received + 1)[-1]
    assert list(mail.rcpt_tos) == ["alex@example.com"]
    assert "Queue scorecard — Payments" in mail.message.get_body(("plain",)).get_content()
    by_recipient = smtp_server.by_recipient()
    assert all(len(by_recipient[r]) == 1 for r in expected_recipients("queues"))


def test_a_pruned_run_says_when_and_its_files_are_refused_clearly(browser, site, shots):  # noqa: F811
    first = _fanout_run(site, send=False)  # two regenerations, nothing sent
    page = _sign_in(browser, site.url, "vic")
    page.goto(site.url + f"/runs/{first}")
    billing = next(c for c in site.app.state.ledger.children_of(first) if c.segment == "Billing")
    href = page.locator(f"#run-{billing.id}").get_by_role("link", name="xlsx").get_attribute(
        "href")
    second = _fanout_run(site, send=False)
    ledger = site.app.state.ledger.with_clock(lambda: NOW)
    pruned = prune_runs(ledger, RetentionSettings(keep_runs=1),
                        site.app.state.config.settings.resolved_out_dir())
    assert [p.run_id for p in pruned] == [first]

    page.goto(site.url + f"/runs/{first}")
    expect(page.locator("#pruned")).to_contain_text(
        "Artifacts pruned on Oct 5, 2026, 9:00 AM UTC (keep_runs 1)")  # NOW, as text.timestamp writes it
    expect(page.locator(f"#run-{billing.id}")).to_contain_text("artifacts pruned on")
    expect(page.locator("#segments").get_by_role("link", name="xlsx")).to_have_count(0)
    page.screenshot(path=shots / "13-run-pruned.png", full_page=True)

    # the old link answers 410 with the reason, not a server error
    refused = page.request.get(site.url + href)
    assert refused.status == 410
    assert "was pruned on" in refused.text() and "regenerate 2026-09" in refused.text()
    page.goto(site.url + f"/runs/{second}")
    expect(page.locator("#segments").get_by_role("link", name="xlsx")).to_have_count(3)
    expect(page.locator("#pruned")).to_have_count(0)


def test_a_segment_awaiting_approval_is_approved_on_its_own_and_reaches_its_lead_once(
        tmp_path, demo_dir, smtp_server):
    import yaml
    from starlette.testclient import TestClient
    from support.web_site import PASSWORDS, add_accounts, approval_form, csrf_of

    from reportgen.plan import load_definition
    from reportgen.web import create_app

    config = make_config(tmp_path, demo_dir, smtp_server)
    path = write_fanout(config.definitions, demo_dir, "queues")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["approval"] = {"required": True, "approvers": ["alex@example.com"]}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    app = create_app(config)
    add_accounts(app.state.store)
    record = run_fanout(load_definition(path), SEPTEMBER, trigger="schedule",
                        ledger=app.state.ledger, out_dir=config.settings.resolved_out_dir(),
                        send=True, smtp=config.settings.smtp, domains=["example.com"], jobs=1,
                        now=lambda: NOW)
    children = app.state.ledger.children_of(record.id)
    assert {c.status for c in children} == {"pending_approval"}
    assert not set(expected_recipients("queues")) & set(smtp_server.by_recipient())

    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"name": "alex", "password": PASSWORDS["alex"],
                                "csrf_token": token})
    page = client.get(f"/runs/{record.id}").text
    assert page.count("Approve…") == 4  # the whole report and each segment
    billing = next(c for c in children if c.segment == "Billing")
    for _ in range(2):
        answer = client.post(f"/runs/{billing.id}/approve",
                             data=approval_form(client, billing.id), follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/runs/{record.id}#run-{billing.id}"
    got = smtp_server.by_recipient()
    assert len(got[lead("queues", "Billing")]) == 1
    assert not {lead("queues", q) for q in QUEUES if q != "Billing"} & set(got)
    assert app.state.ledger.get_run(billing.id).status == "succeeded"
    page = client.get(f"/runs/{record.id}").text
    assert page.count("Approve…") == 3  # Billing is delivered; the rest still wait


def test_a_fanout_lists_its_segments_from_its_data_before_its_first_run_and_one_previews(
        browser, site, demo_dir, shots):  # noqa: F811 (fixtures)
    import pandas as pd

    folder = site.app.state.config.definitions
    path = write_fanout(folder, demo_dir, "open")
    # no `values`: its segments are whatever the data holds
    path.write_text(re.sub(r"\n  values: \[[^\]]*\]", "", path.read_text(encoding="utf-8")),
                    encoding="utf-8")
    assert "values:" not in path.read_text(encoding="utf-8")
    tickets = pd.read_csv(demo_dir / "tickets.csv", usecols=["created_at", "queue"])
    in_september = tickets[tickets["created_at"].str.startswith("2026-09-1")]
    expected = sorted(in_september["queue"].unique())
    assert len(expected) > len(QUEUES)

    page = _sign_in(browser, site.url, "vic")
    page.goto(site.url + "/reports/open")
    expect(page.locator("#runs")).to_contain_text("No runs yet.")
    offered = page.get_by_label("Segment to preview").locator("option")
    expect(offered).to_have_text(["the whole report", *expected])
    page.screenshot(path=shots / "14-report-fanout-segments-from-data.png", full_page=True)

    page.get_by_label("Segment to preview").select_option("Shipping")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name=re.compile("Queue scorecard — Shipping"))
           ).to_be_visible(timeout=60_000)
    expect(page.get_by_label("Segment")).to_have_value("Shipping")
    # previewed although its recipients file names nobody for it yet, which the page says
    expect(page.locator("#refused")).to_contain_text("no row of")
    frame = page.frame_locator("iframe[title='Report preview']")
    expect(frame.locator("body")).to_contain_text("Operations", timeout=60_000)
    page.screenshot(path=shots / "15-preview-segment-from-data.png", full_page=True)
    assert site.app.state.ledger.history("open") == []  # listed and previewed: nothing run
