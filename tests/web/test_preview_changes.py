"""A preview's "what changed" compares like with like: a period never sent is compared with
the previous period as it was sent (month on month), saying so and naming both periods; a
period already sent is compared with itself as sent.  Each KPI shows what was sent, what
the preview says, the change and the report's own reading of it."""

from __future__ import annotations

import lxml.html
from starlette.testclient import TestClient
from support.web_site import PASSWORDS, RECIPIENTS, add_accounts, csrf_of, make_config

from reportgen.insights.text import NORMAL_VARIATION, REAL_CHANGE
from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.runner import run_report
from reportgen.web import create_app


def _sign_in(app, name):
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf_token": token})
    return client


def _send(app, config, key):
    loaded = load_definition(config.definitions / "csat-mini.yaml")
    spec = loaded.definition.period
    record = run_report(loaded, Period.parse(key, spec.grain, spec.timezone), trigger="manual",
                        ledger=app.state.ledger, out_dir=config.settings.resolved_out_dir(),
                        send=True, smtp=config.settings.smtp, now=config.now)
    assert record.status == "succeeded", record.error
    return record


def _mail_line(smtp_server, period_label, label):
    """The KPI's line of the plain-text e-mail a recipient got for ``period_label``."""
    for received in smtp_server.by_recipient()[RECIPIENTS[0]]:
        body = received.message.get_body(("plain",)).get_content()
        if period_label in body:
            return next(line for line in body.splitlines() if line.startswith(f"- {label}:"))
    raise AssertionError(f"no e-mail for {period_label}")


def _kpi_rows(html):
    page = lxml.html.fromstring(html)
    note = page.get_element_by_id("changes").text_content()
    table = page.get_element_by_id("kpi-changes")
    head = [th.text_content() for th in table.xpath(".//thead//th")]
    rows = {tr.xpath("./th")[0].text_content(): [td.text_content() for td in tr.xpath("./td")]
            for tr in table.xpath(".//tbody/tr") if tr.xpath("./th")}
    return note, head, rows, table.text_content()


def test_what_changed_names_both_periods_month_on_month_then_like_for_like(
        tmp_path, demo_dir, smtp_server):
    config = make_config(tmp_path, demo_dir, smtp_server)
    app = create_app(config)
    add_accounts(app.state.store)
    august = _send(app, config, "2026-08")
    viewer = _sign_in(app, "vic")

    # September was never sent: compared with August as sent, month on month, said plainly
    page = viewer.get("/reports/csat-mini/preview?period=2026-09")
    assert page.status_code == 200
    note, head, rows, _ = _kpi_rows(page.text)
    assert "September 2026 has not been sent yet" in note
    assert "previous period, August 2026" in note and "month on month" in note
    assert f"run #{august.id}" in note
    assert head[1:3] == ["Sent: August 2026", "Now: September 2026"]
    sent_aug, now_sep, change, reading = rows["CSAT"]
    # the sent number is the one August's recipients read
    assert f"- CSAT: {sent_aug} (" in _mail_line(smtp_server, "August 2026", "CSAT")
    assert reading in (REAL_CHANGE, NORMAL_VARIATION)

    # once September is sent, its e-mail states the preview's number and change
    september = _send(app, config, "2026-09")
    line = _mail_line(smtp_server, "September 2026", "CSAT")
    assert line.startswith(f"- CSAT: {now_sep} ({change})"), (line, now_sep, change)
    assert now_sep != sent_aug

    # and September is now compared with itself as sent: nothing differs
    note, head, rows, table = _kpi_rows(viewer.get(
        "/reports/csat-mini/preview?period=2026-09").text)
    assert f"Compared with September 2026 as it was sent: run #{september.id}" in note
    assert head[1:3] == ["Sent: September 2026", "Now: September 2026"]
    assert rows == {} and "No headline KPI differs from what was sent." in table


def test_a_period_with_nothing_like_for_like_says_so(tmp_path, demo_dir, smtp_server):
    config = make_config(tmp_path, demo_dir, smtp_server)
    app = create_app(config)
    add_accounts(app.state.store)
    _send(app, config, "2026-09")
    viewer = _sign_in(app, "vic")
    page = lxml.html.fromstring(viewer.get("/reports/csat-mini/preview?period=2026-06").text)
    assert page.get_element_by_id("changes").text_content() == (
        "Neither June 2026 nor the period before it, May 2026, has been sent yet, so there "
        "is nothing like for like to compare with.")
    assert not page.xpath('//*[@id="kpi-changes"]')
