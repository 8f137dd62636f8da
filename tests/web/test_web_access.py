"""The web page's gates: sign-in, roles, CSRF, the sign-in limit, downloads and the audit trail.

Requests go through the real ASGI app (Starlette's test client) over a real SQLite ledger.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from support.web_site import PASSWORDS, add_accounts, csrf_of, make_config

from reportgen.cli import main
from reportgen.report.model.report_model import Artifact
from reportgen.web import create_app
from reportgen.web.store import WebStore


@pytest.fixture
def site(tmp_path: Path, demo_dir: Path):
    app = create_app(make_config(tmp_path, demo_dir, None))
    add_accounts(app.state.store)
    return app


def _client(app) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1")


def _sign_in(app, name: str) -> TestClient:
    client = _client(app)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"name": name, "password": PASSWORDS[name],
                                           "csrf_token": token, "next": "/"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    return client


def _recorded_run(app, tmp_path: Path) -> tuple[int, bytes]:
    """A finished run of csat-mini with one PDF-like file, recorded in the ledger."""
    ledger = app.state.ledger
    run_id = ledger.start_run("csat-mini", "2026-09", trigger="manual", definition_hash="h",
                              code_version="t")
    path = tmp_path / "reports" / "csat-mini" / "2026-09" / f"run-{run_id}" / "mini.pdf"
    path.parent.mkdir(parents=True)
    data = b"%PDF-1.7 the report as written\n"
    path.write_bytes(data)
    ledger.record_artifacts(run_id, [Artifact("pdf", str(path), len(data),
                                              hashlib.sha256(data).hexdigest())])
    ledger.finish_run(run_id, "succeeded")
    return run_id, data


def test_anonymous_requests_to_pages_files_and_actions_are_refused(site, tmp_path):
    run_id, _ = _recorded_run(site, tmp_path)
    viewer = _sign_in(site, "vic")
    file_url = re.search(r'href="(/files/[^"]+)"', viewer.get("/reports/csat-mini").text)[1]
    anonymous = _client(site)
    for page in ("/", "/reports/csat-mini", "/reports/csat-mini/preview?period=2026-09",
                 file_url, "/audit", f"/runs/{run_id}"):
        response = anonymous.get(page, follow_redirects=False)
        assert response.status_code == 303, page
        assert response.headers["location"].startswith("/login"), page
        assert b"the report as written" not in response.content
    token = csrf_of(anonymous.get("/login").text)  # even with a valid form token
    for action in ("/reports/csat-mini/regenerate", f"/runs/{run_id}/approve",
                   f"/runs/{run_id}/test-send"):
        assert anonymous.post(action, data={"csrf_token": token}).status_code == 401, action


def test_a_viewer_reads_but_may_not_regenerate_or_approve(site, tmp_path):
    run_id, _ = _recorded_run(site, tmp_path)
    viewer = _sign_in(site, "vic")
    page = viewer.get("/reports/csat-mini").text
    assert "Approve and send" not in page and "Regenerate" not in page
    token = csrf_of(page)
    assert viewer.post("/reports/csat-mini/regenerate",
                       data={"csrf_token": token, "period": "2026-09"}).status_code == 403
    assert viewer.post(f"/runs/{run_id}/approve", data={"csrf_token": token}).status_code == 403
    assert viewer.post(f"/runs/{run_id}/reject",
                       data={"csrf_token": token, "reason": "no"}).status_code == 403
    assert viewer.get("/audit").status_code == 403
    assert site.state.ledger.history("csat-mini") and len(site.state.ledger.history()) == 1
    refused = [e for e in site.state.store.audit_entries() if e.outcome == "refused"]
    assert {e.target for e in refused} >= {"/reports/csat-mini/regenerate",
                                           f"/runs/{run_id}/approve"}


def test_forms_without_the_session_token_are_refused(site, tmp_path):
    run_id, _ = _recorded_run(site, tmp_path)
    approver = _sign_in(site, "alex")
    assert approver.post(f"/runs/{run_id}/reject", data={"reason": "late"}).status_code == 403
    assert approver.post(f"/runs/{run_id}/reject",
                         data={"reason": "late", "csrf_token": "forged"}).status_code == 403
    assert site.state.store.approvals_of([run_id]) == {}
    # a sign-in form from another session is refused too
    assert _client(site).post("/login", data={"name": "alex", "password": PASSWORDS["alex"],
                                              "csrf_token": "x"}).status_code == 403


def test_sign_in_is_rate_limited_and_every_attempt_is_audited(site):
    client = _client(site)
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        wrong = client.post("/login", data={"name": "ana", "password": "guess",
                                            "csrf_token": token})
        assert wrong.status_code == 401 and "wrong password" in wrong.text
    right = client.post("/login", data={"name": "ana", "password": PASSWORDS["ana"],
                                        "csrf_token": token}, follow_redirects=False)
    assert right.status_code == 429  # even the right password waits out the window
    outcomes = [e.outcome for e in site.state.store.audit_entries() if e.action == "sign-in"]
    assert outcomes.count("refused") == 5 and outcomes.count("rate-limited") == 1
    # another account from the same address is not locked out by someone guessing at ana
    assert _sign_in(site, "vic").get("/").status_code == 200


def test_downloads_serve_exactly_the_recorded_bytes_and_refuse_changed_files(site, tmp_path):
    run_id, data = _recorded_run(site, tmp_path)
    viewer = _sign_in(site, "vic")
    url = re.search(r'href="(/files/[^"]+)"', viewer.get("/reports/csat-mini").text)[1]
    response = viewer.get(url)
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == "application/pdf"
    forged = url.replace(url.split("/")[2], url.split("/")[2][:-3] + "AAA")
    assert viewer.get(forged).status_code == 404
    path = Path(site.state.ledger.get_run(run_id).artifacts[0].path)
    path.write_bytes(data + b"tampered")
    changed = viewer.get(url)
    assert changed.status_code == 409 and b"tampered" not in changed.content
    outcomes = [e.outcome for e in site.state.store.audit_entries() if e.action == "download"]
    assert outcomes == ["changed", "ok"]  # newest first


def test_the_reports_page_lists_every_definition_and_locates_the_invalid_one(site):
    page = _sign_in(site, "vic").get("/").text
    for title in ("Monthly Quality Report", "Quarterly Business Review", "CSAT Mini Report"):
        assert title in page, title
    broken = re.search(r'<tr data-report="broken">(.*?)</tr>', page, re.S)[1]
    assert "invalid, not scheduled" in broken and "broken.yaml:" in broken
    assert "csat_top2" in broken
    mini = re.search(r'<tr data-report="csat-mini">(.*?)</tr>', page, re.S)[1]
    # cron 07:00 on the 2nd, Berlin time; after 5 October the next is 2 November, for October
    assert "0 7 2 * *" in mini and "Europe/Berlin" in mini
    assert "Nov 2, 2026, 7:00 AM CET" in mini and "→ 2026-10" in mini


def test_users_add_reads_the_password_from_stdin_and_refuses_weak_ones(tmp_path, monkeypatch,
                                                                       capsys):
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    assert main(["users", "add", "dana", "--role", "approver", "--email", "dana@example.com",
                 "--ledger", url]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "eve", "--role", "viewer", "--email", "eve@example.com",
                 "--ledger", url]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    from reportgen.ledger.store import Ledger

    store = WebStore(Ledger(url).engine)
    assert store.authenticate("dana", "a long enough secret").role == "approver"
    assert store.authenticate("dana", "a long enough secreT") is None
    assert store.user("eve") is None


def test_a_pruned_run_is_refused_for_download_test_send_and_approval_saying_when(
        tmp_path, demo_dir, smtp_server):
    from datetime import UTC, datetime

    from reportgen.ledger.retention import prune_runs
    from reportgen.settings import RetentionSettings

    app = create_app(make_config(tmp_path, demo_dir, smtp_server))
    add_accounts(app.state.store)
    run_id, _ = _recorded_run(app, tmp_path)
    app.state.ledger.record_summary(run_id, {
        "mail": {"report_id": "csat-mini", "title": "CSAT Mini Report", "organisation": "T",
                 "period_key": "2026-09", "period_label": "September 2026",
                 "date_range": "Sep 1–30, 2026"},
        "email": {"to": ["director@example.com"], "attach": ["pdf"]}})
    approver = _sign_in(app, "alex")
    page = approver.get("/reports/csat-mini").text
    url = re.search(r'href="(/files/[^"]+)"', page)[1]
    later = app.state.ledger.start_run("csat-mini", "2026-09", trigger="manual",
                                       definition_hash="h", code_version="t")
    app.state.ledger.record_artifacts(later, [Artifact("pdf", str(tmp_path / "reports" / "x.pdf"),
                                                       1, "0" * 64)])
    app.state.ledger.finish_run(later, "succeeded")
    ledger = app.state.ledger.with_clock(lambda: datetime(2026, 10, 6, 8, 30, tzinfo=UTC))
    assert [p.run_id for p in prune_runs(ledger, RetentionSettings(keep_runs=1),
                                         tmp_path / "reports")] == [run_id]

    token = csrf_of(page)
    for answer in (approver.get(url),
                   approver.post(f"/runs/{run_id}/test-send", data={"csrf_token": token}),
                   approver.post(f"/runs/{run_id}/approve", data={"csrf_token": token})):
        assert answer.status_code in (409, 410), answer.status_code
        assert "pruned on Oct 6, 2026, 8:30 AM UTC (keep_runs 1)" in answer.text
        assert "Traceback" not in answer.text
    assert smtp_server.received == []
    assert "artifacts pruned on Oct 6, 2026" in approver.get(f"/runs/{run_id}").text


@pytest.mark.parametrize("period", ["9999-12", "0001-01"])
def test_a_period_beyond_the_calendar_answers_400_with_a_plain_message(site, period):
    analyst = _sign_in(site, "ana")
    for path in ("/reports/csat-mini/preview", "/reports/csat-mini/preview/page"):
        response = analyst.get(f"{path}?period={period}")
        assert response.status_code == 400
        assert f"expected a year from 1900 to 9998, found {period[:4]}" in response.text
        assert "Traceback" not in response.text
    token = csrf_of(analyst.get("/reports/csat-mini").text)
    refused = analyst.post("/reports/csat-mini/regenerate",
                           data={"csrf_token": token, "period": period})
    assert refused.status_code == 400 and site.state.ledger.history() == []
