"""Pausing a report's schedule from the page: an approver or admin pauses and resumes it,
each step in the audit trail; while it is paused a scheduled run (or its retry) is skipped
and a run asked for by hand still runs.

The real ASGI app over a SQLite ledger and a copy of the demo database, and the daemon's own
job body (``executors.jobs.run_job``) for the scheduled run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from starlette.testclient import TestClient
from support.web_site import NOW, PASSWORDS, SECRET, add_accounts, csrf_of

from reportgen.executors.jobs import run_job
from reportgen.settings import Settings
from reportgen.web import WebConfig, create_app


def _site(root: Path, demo_dir: Path) -> tuple[WebConfig, Path]:
    folder = root / "configs"
    folder.mkdir()
    database = root / "responses.sqlite"
    shutil.copyfile(demo_dir / "reportgen_demo.sqlite", database)
    definition = folder / "csat-monthly.yaml"
    definition.write_text(yaml.safe_dump({
        "id": "csat-monthly", "title": "CSAT Monthly", "owner": "owner@example.com",
        "period": {"grain": "month", "timezone": "UTC", "history": 3},
        "schedule": {"cron": "0 7 2 * *"},
        "sources": {"responses": {
            "kind": "sql", "url": f"sqlite:///{database}", "table": "csat_responses",
            "time_column": "responded_at", "columns": {"rating": "int"}}},
        "metrics": [{"id": "csat", "label": "CSAT", "calculator": "csat",
                     "source": "responses", "params": {"column": "rating"}}],
        "sections": [{"id": "voc", "title": "Voice of the customer", "kpis": ["csat"]}],
        "outputs": [{"format": "xlsx"}],
    }), encoding="utf-8")
    settings = Settings(ledger_url=f"sqlite:///{root / 'runs.sqlite'}", out_dir=root / "out")
    return WebConfig(folder, settings, SECRET, secure_cookies=False, now=lambda: NOW), definition


def _sign_in(app, name: str) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"name": name, "password": PASSWORDS[name],
                                "csrf_token": token, "next": "/"})
    return client


def test_an_approver_pauses_the_schedule_and_scheduled_runs_skip_it_until_resumed(
        demo_dir, tmp_path):
    config, definition = _site(tmp_path, demo_dir)
    app = create_app(config)
    add_accounts(app.state.store)
    approver = _sign_in(app, "alex")
    page = approver.get("/reports/csat-monthly").text
    assert "Pause the schedule" in page and "Next runs" in page
    paused = approver.post("/reports/csat-monthly/pause-schedule",
                           data={"csrf_token": csrf_of(page)})
    assert paused.status_code == 200 and 'id="schedule-pause"' in paused.text
    assert "Paused by alex" in paused.text and "Resume the schedule" in paused.text
    assert "Next runs" not in paused.text  # no upcoming run is promised while paused

    # the daemon's job for this report: skipped, nothing recorded
    assert run_job(str(definition), None, config.settings, "2026-09", trigger="schedule") is None
    assert app.state.ledger.history("csat-monthly") == []
    # a run asked for by hand is not the schedule: it runs
    analyst = _sign_in(app, "ana")
    page = analyst.get("/reports/csat-monthly").text
    assert "Pause the schedule" not in page and "Resume the schedule" not in page
    analyst.post("/reports/csat-monthly/regenerate",
                 data={"csrf_token": csrf_of(page), "period": "2026-09"})
    (job_id,) = app.state.jobs.finished
    assert app.state.jobs.finished[job_id].wait(120)
    assert [r.trigger for r in app.state.ledger.history("csat-monthly")] == ["manual"]

    resumed = approver.post("/reports/csat-monthly/resume-schedule",
                            data={"csrf_token": csrf_of(approver.get("/reports/csat-monthly")
                                                        .text)})
    assert "Pause the schedule" in resumed.text and 'id="schedule-pause"' not in resumed.text
    outcome = run_job(str(definition), None, config.settings, "2026-08", trigger="schedule")
    assert outcome is not None and outcome.status == "succeeded"
    actions = [(e.action, e.target, e.user_name) for e in app.state.store.audit_entries()]
    assert ("pause-schedule", "csat-monthly", "alex") in actions
    assert ("resume-schedule", "csat-monthly", "alex") in actions
    app.state.jobs.shutdown()


def test_neither_a_viewer_nor_an_analyst_may_pause_a_schedule(demo_dir, tmp_path):
    config, _ = _site(tmp_path, demo_dir)
    app = create_app(config)
    add_accounts(app.state.store)
    for name in ("vic", "ana"):
        client = _sign_in(app, name)
        token = csrf_of(client.get("/reports/csat-monthly").text)
        refused = client.post("/reports/csat-monthly/pause-schedule",
                              data={"csrf_token": token})
        assert refused.status_code == 403
    page = _sign_in(app, "root").get("/reports/csat-monthly").text
    assert "Pause the schedule" in page and 'id="schedule-pause"' not in page
    app.state.jobs.shutdown()
