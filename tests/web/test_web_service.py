"""The web page as a long-lived service: numbers that follow the data, builds that never
block the page, jobs that outlive a restart, fan-outs built twice in one process, and an
approval that waits for a run in progress.

The real ASGI app over a SQLite ledger, a copy of the demo database (the tests change its
rows), real SMTP on loopback where something is sent, and uvicorn on loopback where the
page must answer while a build runs.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient
from support.fanout_defs import write_fanout
from support.web_site import NOW, PASSWORDS, SECRET, add_accounts, approval_form, csrf_of, serve

from reportgen.cli import main
from reportgen.settings import Settings, SmtpSettings
from reportgen.web import WebConfig, create_app


def _folder(root: Path, demo_dir: Path) -> tuple[Path, Path]:
    """A definitions folder with one CSAT report over a copy of the demo database."""
    folder = root / "configs"
    folder.mkdir()
    database = root / "responses.sqlite"
    shutil.copyfile(demo_dir / "reportgen_demo.sqlite", database)
    (folder / "csat-live.yaml").write_text(yaml.safe_dump({
        "id": "csat-live", "title": "CSAT Live", "owner": "owner@example.com",
        "period": {"grain": "month", "timezone": "Europe/Berlin", "history": 4},
        "sources": {"responses": {
            "kind": "sql", "url": f"sqlite:///{database}", "table": "csat_responses",
            "time_column": "responded_at", "columns": {"rating": "int", "queue": "str"}}},
        "metrics": [{"id": "csat", "label": "CSAT", "calculator": "csat",
                     "source": "responses", "params": {"column": "rating"}, "by": ["queue"],
                     "target": 0.85}],
        "sections": [{"id": "voc", "title": "Voice of the customer", "kpis": ["csat"]}],
        "outputs": [{"format": "xlsx"}],
        "delivery": {"email": {"to": ["director@example.com"], "attach": []}},
    }), encoding="utf-8")
    return folder, database


def _config(root: Path, folder: Path, *, smtp=None, **settings) -> WebConfig:  # type: ignore[no-untyped-def]
    smtp_settings = None if smtp is None else SmtpSettings(
        host=smtp.host, port=smtp.port, security="none", from_address="reports@example.com",
        timeout=5, attempts=1, local_hostname="reportgen.test")
    return WebConfig(folder, Settings(ledger_url=f"sqlite:///{root / 'runs.sqlite'}",
                                      out_dir=root / "reports", smtp=smtp_settings, **settings),
                     SECRET, secure_cookies=False, now=lambda: NOW)


def _sign_in(app, name: str = "ana") -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    assert client.post("/login", data={"name": name, "password": PASSWORDS[name],
                                       "csrf_token": token, "next": "/"},
                       follow_redirects=False).status_code == 303
    return client


def _regenerate(app, client: TestClient, report_id: str, **form: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(f"/reports/{report_id}").text)
    response = client.post(f"/reports/{report_id}/regenerate",
                           data={"csrf_token": token, "period": "2026-09", **form},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert app.state.jobs.finished[job_id].wait(300), f"job {job_id} did not finish"
    return client.get(f"/jobs/{job_id}.json").json()


def _csat_of(app, run_id: int) -> dict:  # type: ignore[no-untyped-def]
    summary = app.state.ledger.get_run(run_id).summary
    return next(m for m in summary["metrics"] if m["id"] == "csat")


def test_one_server_gives_new_numbers_after_the_data_changed(demo_dir, tmp_path, capsys):
    folder, database = _folder(tmp_path, demo_dir)
    app = create_app(_config(tmp_path, folder))
    add_accounts(app.state.store)
    analyst = _sign_in(app)
    document = "/reports/csat-live/preview/page?period=2026-09"
    preview = analyst.get(document)
    assert preview.status_code == 200
    first = _regenerate(app, analyst, "csat-live")
    assert first["state"] == "finished" and first["run_status"] == "succeeded"
    before = _csat_of(app, first["run_id"])
    assert f"{before['value'] * 100:.1f}%" in preview.text

    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM csat_responses WHERE queue = 'Billing' AND "
                     "responded_at >= '2026-09-01' AND responded_at < '2026-10-01'")
    second = _regenerate(app, analyst, "csat-live")
    after = _csat_of(app, second["run_id"])
    assert after["n"] < before["n"] and after["value"] != before["value"]

    # the same numbers as a fresh process on the same data
    capsys.readouterr()
    assert main(["run", str(folder / "csat-live.yaml"), "--period", "2026-09", "--json",
                 "--out", str(tmp_path / "fresh")]) == 0
    fresh = next(m for m in json.loads(capsys.readouterr().out)["metrics"] if m["id"] == "csat")
    assert (after["value"], after["n"]) == (fresh["value"], fresh["n"])
    again = analyst.get(document).text
    assert f"{after['value'] * 100:.1f}%" in again
    assert f"{before['value'] * 100:.1f}%" not in again


def test_the_list_answers_at_once_while_a_preview_builds(demo_dir, tmp_path):
    from support import slow_pipeline

    slow_pipeline.STARTED.clear()
    slow_pipeline.RELEASE.clear()
    folder, _ = _folder(tmp_path, demo_dir)
    site = serve(_config(tmp_path, folder, pipeline="support.slow_pipeline"))
    try:
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

        def get(path: str) -> tuple[int, str]:
            with browser.open(site.url + path, timeout=120) as response:
                return response.status, response.read().decode()

        token = csrf_of(get("/login")[1])
        form = urllib.parse.urlencode({"name": "vic", "password": PASSWORDS["vic"],
                                       "csrf_token": token, "next": "/"}).encode()
        browser.open(site.url + "/login", data=form, timeout=60).close()
        outcome: dict[str, int] = {}
        builder = threading.Thread(target=lambda: outcome.update(
            status=get("/reports/csat-live/preview?period=2026-09")[0]))
        builder.start()
        assert slow_pipeline.STARTED.wait(60), "the preview never started building"
        timings = []
        for _ in range(3):
            began = time.perf_counter()
            status, page = get("/")
            timings.append(time.perf_counter() - began)
            assert status == 200 and "csat-live" in page
        assert builder.is_alive(), "the build was not held while the list was asked for"
        slow_pipeline.RELEASE.set()
        builder.join(120)
        assert outcome["status"] == 200
        assert max(timings) < 0.5, timings
    finally:
        slow_pipeline.RELEASE.set()
        site.stop()


def test_jobs_keep_their_ids_and_outcomes_across_a_restart(demo_dir, tmp_path):
    folder, _ = _folder(tmp_path, demo_dir)
    config = _config(tmp_path, folder)
    app = create_app(config)
    add_accounts(app.state.store)
    done = _regenerate(app, _sign_in(app), "csat-live")
    app.state.jobs.shutdown()

    again = create_app(config)  # the page restarted on the same ledger
    analyst = _sign_in(again)
    kept = analyst.get(f"/jobs/{done['id']}.json").json()
    assert (kept["state"], kept["run_id"], kept["run_status"]) == (
        "finished", done["run_id"], "succeeded")
    page = analyst.get(f"/jobs/{done['id']}").text
    assert f"/runs/{done['run_id']}" in page and "ana" in page
    newer = _regenerate(again, analyst, "csat-live")
    assert newer["id"] > done["id"] and newer["run_id"] > done["run_id"]


def test_two_fan_out_regenerations_and_a_preview_in_one_server(demo_dir, tmp_path):
    folder, _ = _folder(tmp_path, demo_dir)
    write_fanout(folder, demo_dir, "queues")
    app = create_app(_config(tmp_path, folder, jobs=2))
    add_accounts(app.state.store)
    analyst = _sign_in(app)
    # a preview over a CSV source opens DuckDB (and its threads) in this process first
    assert analyst.get("/reports/queues/preview?period=2026-09").status_code == 200
    for _ in range(2):
        job = _regenerate(app, analyst, "queues")
        assert (job["state"], job["run_status"]) == ("finished", "succeeded"), job
        children = app.state.ledger.children_of(job["run_id"])
        assert [c.status for c in children] == ["succeeded"] * 3
        assert all(c.artifacts and Path(c.artifacts[0].path).is_file() for c in children)
    assert analyst.get("/reports/csat-live/preview?period=2026-09").status_code == 200


def test_approve_waits_for_a_run_of_the_same_period_and_never_sends_twice(
        demo_dir, tmp_path, smtp_server):
    folder, _ = _folder(tmp_path, demo_dir)
    definition = folder / "csat-live.yaml"
    data = yaml.safe_load(definition.read_text())
    data["approval"] = {"required": True, "approvers": ["alex@example.com"]}
    definition.write_text(yaml.safe_dump(data), encoding="utf-8")
    app = create_app(_config(tmp_path, folder, smtp=smtp_server))
    add_accounts(app.state.store)
    job = _regenerate(app, _sign_in(app), "csat-live")
    ledger = app.state.ledger
    run_id = job["run_id"]
    ledger.finish_run(run_id, "pending_approval")  # as a scheduled run awaiting approval
    approver = _sign_in(app, "alex")
    form = approval_form(approver, run_id)

    with ledger.locked("csat-live", "2026-09"):  # a run of the same period is under way
        refused = approver.post(f"/runs/{run_id}/approve", data=form)
    assert refused.status_code == 409 and "being run right now" in refused.text
    assert smtp_server.received == [] and ledger.get_run(run_id).status == "pending_approval"

    for _ in range(2):  # approved once the run has ended; twice sends nothing more
        approver.post(f"/runs/{run_id}/approve", data=form)
    assert len(smtp_server.wait_for(1)) == 1
    time.sleep(0.3)
    assert len(smtp_server.received) == 1
    assert ledger.get_run(run_id).status == "succeeded"
    assert re.search(r"approve", " ".join(e.action for e in app.state.store.audit_entries()))
    # each approval is a ledger job: the refused one says why, the others name the run
    approvals = [j for j in reversed(app.state.jobs.recent("csat-live")) if j.kind == "approve"]
    assert [j.state for j in approvals] == ["failed", "finished", "finished"]
    assert "running" in (approvals[0].error or "") and approvals[0].run_id is None
    assert {j.run_id for j in approvals[1:]} == {run_id} and all(
        j.user_name == "alex" and j.error is None for j in approvals[1:])


def test_previews_and_test_sends_are_ledger_jobs_that_outlive_a_restart(
        demo_dir, tmp_path, smtp_server):
    folder, _ = _folder(tmp_path, demo_dir)
    config = _config(tmp_path, folder, smtp=smtp_server)
    app = create_app(config)
    add_accounts(app.state.store)
    analyst = _sign_in(app)
    assert analyst.get("/reports/csat-live/preview?period=2026-09").status_code == 200
    assert analyst.get("/reports/csat-live/preview?period=2026-09").status_code == 200
    run = _regenerate(app, analyst, "csat-live")
    token = csrf_of(analyst.get(f"/runs/{run['run_id']}").text)
    assert analyst.post(f"/runs/{run['run_id']}/test-send", data={"csrf_token": token},
                        follow_redirects=False).status_code == 303
    assert len(smtp_server.wait_for(1)) == 1
    before = {j.id: j for j in app.state.jobs.recent("csat-live")}
    # one preview build (the second preview was served from it: the data had not changed),
    # the regeneration and the test send, each with its user, outcome and time
    assert sorted(j.kind for j in before.values()) == ["preview", "regenerate", "test-send"]
    preview = next(j for j in before.values() if j.kind == "preview")
    assert (preview.state, preview.period, preview.user_name) == ("finished", "2026-09", "ana")
    assert preview.elapsed(NOW) is not None
    sent = next(j for j in before.values() if j.kind == "test-send")
    assert (sent.state, sent.run_id, sent.error) == ("finished", run["run_id"], None)
    app.state.jobs.shutdown()

    again = create_app(config)  # the page restarted on the same ledger
    viewer = _sign_in(again)
    page = viewer.get("/reports/csat-live").text
    for job in before.values():
        assert f'id="job-{job.id}"' in page
        kept = viewer.get(f"/jobs/{job.id}.json").json()
        assert (kept["kind"], kept["state"], kept["run_id"]) == (job.kind, job.state, job.run_id)
    assert "Test send of csat-live" in viewer.get(f"/jobs/{sent.id}").text
    assert viewer.get("/reports/csat-live/preview?period=2026-08").status_code == 200
    newest = again.state.jobs.recent("csat-live", limit=1)[0]
    assert newest.kind == "preview" and newest.id > max(before)


@pytest.fixture(autouse=True)
def _no_stray_release():
    yield
    from support import slow_pipeline

    slow_pipeline.RELEASE.set()
