"""A report's run log (each run's time per stage, outcome and error in plain words), and the
filters of the report list (name, owner, last run's status) and of the audit trail (user,
action, report, days)."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta

import lxml.html
import pytest
from starlette.testclient import TestClient
from support.web_site import NOW, PASSWORDS, add_accounts, csrf_of, make_config

from reportgen import text
from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.failures import record_failure
from reportgen.run.runner import run_report
from reportgen.web import create_app


@pytest.fixture
def app(tmp_path, demo_dir, smtp_server):
    config = make_config(tmp_path, demo_dir, smtp_server)
    app = create_app(config)
    add_accounts(app.state.store)
    return app


def _sign_in(app, name):
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf_token": token})
    return client


def _run(app, send=True):
    config = app.state.config
    loaded = load_definition(config.definitions / "csat-mini.yaml")
    spec = loaded.definition.period
    return run_report(loaded, Period.parse("2026-09", spec.grain, spec.timezone),
                      trigger="manual", ledger=app.state.ledger,
                      out_dir=config.settings.resolved_out_dir(), send=send,
                      smtp=config.settings.smtp, now=config.now)


def _rows(html, table_id):
    page = lxml.html.fromstring(html)
    table = page.get_element_by_id(table_id)
    return page, table


def test_the_run_log_shows_each_run_stage_by_stage_with_its_outcome(app):
    sent = _run(app)
    assert sent.status == "succeeded"
    stages = sent.summary["stages"]
    names = [s["stage"] for s in stages]
    # the run core's stages, in the order they ran, as far as delivery
    assert names[:2] == ["plan", "data"] and "render pdf" in names and names[-1] == "delivery"
    ledger = app.state.ledger
    failed = ledger.start_run("csat-mini", "2026-10", trigger="schedule", definition_hash="h",
                              code_version="t")
    try:
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")
    except BrokenProcessPool as exc:
        record_failure(ledger, failed, exc, "render")

    viewer = _sign_in(app, "vic")
    assert 'href="/reports/csat-mini/log"' in viewer.get("/reports/csat-mini").text
    page, table = _rows(viewer.get("/reports/csat-mini/log").text, "run-log")
    ok = page.get_element_by_id(f"log-{sent.id}")
    cells = [td.text_content() for td in ok.xpath("./td")]
    assert cells[1] == "2026-09" and "succeeded" in cells[2]
    for stage in stages:  # each stage with its time, as the page writes times
        assert f"{stage['stage']}: {text.seconds(stage['seconds'])}" in cells[4]
    bad = page.get_element_by_id(f"log-{failed}")
    said = bad.text_content()
    assert "failed" in said and "stopped unexpectedly" in said
    assert "BrokenProcessPool" not in lxml.html.tostring(bad, encoding="unicode")
    # newest first
    assert [tr.get("id") for tr in table.xpath(".//tbody/tr")] == [f"log-{failed}",
                                                                   f"log-{sent.id}"]


def test_the_report_list_filters_by_name_owner_and_last_status(app):
    _run(app, send=False)
    viewer = _sign_in(app, "vic")

    def listed(query):
        _, table = _rows(viewer.get(f"/?{query}").text, "reports")
        return sorted(tr.get("data-report") for tr in table.xpath(".//tr[@data-report]"))

    everything = listed("")
    assert {"csat-mini", "broken"} <= set(everything) and len(everything) == 4
    assert listed("name=CSAT+mini") == ["csat-mini"]
    assert listed("name=quarterly") == [r for r in everything if "qbr" in r]
    assert listed("owner=owner%40example.com") == ["csat-mini"]
    assert listed("status=succeeded") == ["csat-mini"]
    assert listed("status=invalid") == ["broken"]
    assert listed("status=never+run") == sorted(set(everything) - {"csat-mini", "broken"})
    assert listed("name=csat&status=never+run") == []
    page = viewer.get("/?name=nothing-like-this").text
    assert "No report matches" in page and "0 of 4 reports match" in page


def test_the_audit_trail_filters_by_user_action_report_and_days(app):
    clock = app.state.config
    analyst = _sign_in(app, "ana")
    token = csrf_of(analyst.get("/reports/csat-mini").text)
    queued = analyst.post("/reports/csat-mini/regenerate", follow_redirects=False,
                          data={"csrf_token": token, "period": "2026-09"})
    job_id = int(queued.headers["location"].rsplit("/", 1)[1])
    assert app.state.jobs.finished[job_id].wait(60)
    run = app.state.ledger.get_run(app.state.jobs.get(job_id).run_id)
    store = app.state.store
    store.record(store.user("ana"), "regenerate", "qbr 2026-Q3", "queued")
    store.record(None, "regenerate", "csat-mini 2026-08", "queued")
    app.state.store.record(None, "test-send", f"run {run.id}", "sent")
    clock.now = lambda: NOW + timedelta(days=3)  # later entries, three days on
    app.state.store.now = clock.now
    app.state.store.record(None, "reject", f"run {run.id}", "ok", "numbers look off")
    admin = _sign_in(app, "root")

    def shown(query):
        _, table = _rows(admin.get(f"/audit?{query}").text, "audit")
        return [tuple(td.text_content() for td in tr.xpath("./td"))[1:5]
                for tr in table.xpath(".//tr[td]") if len(tr.xpath("./td")) > 1]

    assert {row[0] for row in shown("user=ana")} == {"ana"}
    assert [row[1:] for row in shown("user=ana&action=regenerate")] == [
        ("regenerate", "qbr 2026-Q3", "queued"), ("regenerate", "csat-mini 2026-09", "queued")]
    about_csat = shown("report=csat-mini")
    assert ("—", "reject", f"run {run.id}", "ok") in about_csat
    assert ("—", "test-send", f"run {run.id}", "sent") in about_csat
    assert ("—", "regenerate", "csat-mini 2026-08", "queued") in about_csat
    assert not [r for r in about_csat if "qbr" in r[2]]
    day = NOW.date()
    later = (NOW + timedelta(days=3)).date()
    assert [r[1] for r in shown(f"since={later}")] == ["sign-in", "reject"]
    assert "reject" not in [r[1] for r in shown(f"since={day}&until={day}")]
    assert shown(f"until={day - timedelta(days=1)}") == []
    assert admin.get("/audit?since=yesterday").status_code == 400
