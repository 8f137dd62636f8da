"""A run fired while the broker is down is kept in the run ledger and published when the
broker is back: it runs once, and each recipient gets one message.  Real Redis, a real
Celery worker with default settings, a real SMTP server on loopback; only the clock of the
republishing pass is moved on."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.celery_workers import Workers, celery_settings, runs_with_children, wait_for
from support.fanout_defs import expected_recipients, write_fanout
from support.redis_server import RedisServer, available

from reportgen.cli import main
from reportgen.executors.durable import FIRST_RETRY, backoff, republish_due
from reportgen.executors.scheduler import run_scheduled_job
from reportgen.ledger.store import Ledger

pytestmark = pytest.mark.skipif(not available(), reason="redis-server is not installed "
                                "(scripts/bootstrap-system.sh test installs it)")


def _outbox(tmp_path: Path):
    ledger = Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    try:
        return ledger.outbox.all()
    finally:
        ledger.close()


def _queued_in_redis(redis: RedisServer) -> int:
    import redis as redis_client

    return int(redis_client.Redis.from_url(redis.url).llen("reportgen"))


def test_a_run_fired_while_redis_is_down_runs_once_when_it_is_back(
        tmp_path, demo_dir, smtp_server, caplog, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the settings' relative ledger and out folder
    redis = RedisServer(tmp_path / "redis")  # not started: the broker is down at fire time
    settings = celery_settings(tmp_path, redis, smtp_server)
    path = write_fanout(tmp_path / "defs", demo_dir, "golf")

    caplog.set_level(logging.INFO, logger="reportgen")
    fired = time.monotonic()
    assert run_scheduled_job(str(path), str(settings), "2026-09") is None
    assert time.monotonic() - fired < 15, "a publish to a dead broker must give up quickly"
    (row,) = _outbox(tmp_path)
    assert (row.state, row.report_id, row.period, row.attempts) == ("queued", "golf",
                                                                     "2026-09", 1)
    assert row.task_id is None and "could not be reached" in (row.last_error or "")
    assert row.next_attempt_at is not None
    assert timedelta(0) < row.next_attempt_at - row.created_at <= FIRST_RETRY + timedelta(
        seconds=15)
    assert "kept queued in the run ledger" in caplog.text
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    assert runs_with_children(tmp_path) == []  # nothing ran, nothing was recorded as run

    # still down at the next pass: the row waits longer, nothing is lost
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert republish_due(str(settings), now=lambda: later) == 0
    (row,) = _outbox(tmp_path)
    assert (row.state, row.attempts) == ("queued", 2)

    redis.start()
    try:
        # back up, but the row's next attempt is not due yet: the backoff is kept
        assert republish_due(str(settings)) == 0
        assert _queued_in_redis(redis) == 0
        # the daemon's next pass, once it is due
        due = later + backoff(2) + timedelta(seconds=1)
        assert republish_due(str(settings), now=lambda: due) == 1
        (row,) = _outbox(tmp_path)
        assert row.state == "published" and row.task_id and row.attempts == 3
        assert _queued_in_redis(redis) == 1
        # a published run is never published again
        assert republish_due(str(settings), now=lambda: due + timedelta(hours=1)) == 0
        assert _queued_in_redis(redis) == 1

        workers = Workers(settings, tmp_path)
        workers.start("w1")  # default jobs and concurrency
        try:
            wait_for(lambda: any(r.status != "running" for r, _ in runs_with_children(tmp_path)), 240,
                  "the run on the worker")
        finally:
            workers.stop()
    finally:
        redis.stop()

    runs = runs_with_children(tmp_path)
    assert len(runs) == 1, [(r.id, r.status) for r, _ in runs]
    record, children = runs[0]
    assert record.status == "succeeded" and record.period == "2026-09", record.error
    got = smtp_server.by_recipient()
    assert {k: len(v) for k, v in got.items()} == {k: 1 for k in expected_recipients("golf")}


def test_a_pass_during_an_outage_stops_at_the_first_refusal(tmp_path, smtp_server,
                                                             monkeypatch):
    monkeypatch.chdir(tmp_path)
    redis = RedisServer(tmp_path / "redis")  # never started
    settings = celery_settings(tmp_path, redis, smtp_server)
    ledger = Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    try:
        for name in ("a", "b", "c"):
            ledger.outbox.add(name, f"{name}.yaml", str(settings), "2026-09", None, None)
    finally:
        ledger.close()

    started = time.monotonic()
    assert republish_due(str(settings)) == 0
    took = time.monotonic() - started
    rows = {r.report_id: r for r in _outbox(tmp_path)}
    # one refused publish, not three: the other rows stay due for the next pass
    assert (rows["a"].attempts, rows["a"].next_attempt_at is not None) == (1, True)
    assert [(rows[k].attempts, rows[k].next_attempt_at) for k in "bc"] == [(0, None)] * 2
    assert took < 10, took

    # the next pass tries the next due row, and again only one
    assert republish_due(str(settings)) == 0
    rows = {r.report_id: r for r in _outbox(tmp_path)}
    assert [rows[k].attempts for k in "abc"] == [1, 1, 0]


def test_run_enqueue_puts_the_run_on_the_broker_and_says_so_when_it_cannot(
        tmp_path, demo_dir, smtp_server, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    redis = RedisServer(tmp_path / "redis")
    settings = celery_settings(tmp_path, redis, smtp_server)
    path = write_fanout(tmp_path / "defs", demo_dir, "hotel")

    # broker down: exit 3, the run kept queued, a plain sentence and no traceback
    assert main(["run", str(path), "--period", "2026-09", "--enqueue",
                 "--settings", str(settings)]) == 3
    err = capsys.readouterr().err
    assert "could not be reached" in err and "kept queued in the run ledger (#1)" in err
    assert "Traceback" not in err

    # options the workers decide are refused, located, exit 2
    assert main(["run", str(path), "--period", "2026-09", "--enqueue", "--jobs", "2",
                 "--settings", str(settings)]) == 2
    assert "--jobs: does not go with --enqueue" in capsys.readouterr().err

    # no settings file and no REPORTGEN_LEDGER_URL: which ledger the workers read is unknown
    monkeypatch.setenv("REPORTGEN_BROKER_URL", redis.url)
    assert main(["run", str(path), "--period", "2026-09", "--enqueue"]) == 2
    err = capsys.readouterr().err
    assert "ledger_url" in err and "REPORTGEN_LEDGER_URL" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()

    redis.start()
    try:
        assert main(["run", str(path), "--period", "2026-09", "--enqueue", "--json",
                     "--settings", str(settings)]) == 0
        import json

        told = json.loads(capsys.readouterr().out)
        assert told["report"] == "hotel" and told["period"] == "2026-09" and told["task"]
        assert _queued_in_redis(redis) == 1
        rows = _outbox(tmp_path)
        assert [(r.id, r.state) for r in rows] == [(1, "queued"), (2, "published")]
    finally:
        redis.stop()


@pytest.mark.parametrize("executor", ["celery", "inline"])
def test_the_daemon_publishes_queued_runs_every_half_minute_with_executor_celery(
        tmp_path, smtp_server, monkeypatch, executor):
    import threading

    from reportgen.executors.daemon import run_daemon
    from reportgen.executors.durable import REPUBLISH_EVERY
    from reportgen.executors.scheduler import REPUBLISH_JOB_FUNCTION

    monkeypatch.chdir(tmp_path)
    settings = celery_settings(tmp_path, RedisServer(tmp_path / "redis"), smtp_server,
                               executor=executor)
    (tmp_path / "defs").mkdir()
    stop, jobs = threading.Event(), []

    def started(scheduler) -> None:
        jobs.extend(scheduler.get_jobs())
        stop.set()

    run_daemon(tmp_path / "defs", settings, stop_event=stop, on_started=started)
    republish = [j for j in jobs if j.func_ref == REPUBLISH_JOB_FUNCTION]
    if executor == "inline":
        assert republish == []
        return
    (job,) = republish
    assert job.trigger.interval == REPUBLISH_EVERY
    assert job.kwargs == {"settings_path": str(settings.resolve())}


def test_regenerate_on_the_web_page_runs_one_segment_on_the_workers_and_sends_nothing(
        tmp_path, demo_dir, smtp_server):
    """With ``executor: celery`` the page's Regenerate goes to the workers, as asked: one
    segment, not sent, recorded with who asked."""
    import yaml
    from starlette.testclient import TestClient
    from support.web_site import PASSWORDS, add_accounts, csrf_of, make_config

    from reportgen.web import create_app

    redis = RedisServer(tmp_path / "redis").start()
    workers = None
    try:
        config = make_config(tmp_path, demo_dir, smtp_server)
        write_fanout(config.definitions, demo_dir, "india")
        settings_path = tmp_path / "worker-settings.yaml"
        settings_path.write_text(yaml.safe_dump({
            "ledger_url": config.settings.ledger_url, "out_dir": str(tmp_path / "reports"),
            "executor": "celery", "broker_url": redis.url,
            "allowed_domains": ["example.com"],
            "smtp": config.settings.smtp.model_dump(mode="json")}), encoding="utf-8")
        config.settings = config.settings.model_copy(update={
            "executor": "celery", "broker_url": redis.url, "allowed_domains": ["example.com"]})
        config.settings_path = settings_path
        app = create_app(config)
        add_accounts(app.state.store)
        client = TestClient(app, base_url="http://127.0.0.1")
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"name": "ana", "password": PASSWORDS["ana"],
                                    "csrf_token": token, "next": "/"})
        page = client.get("/reports/india")
        asked = client.post("/reports/india/regenerate",
                            data={"csrf_token": csrf_of(page.text), "period": "2026-09",
                                  "segment": "Payments"}, follow_redirects=False)
        assert asked.status_code == 303 and asked.headers["location"] == "/reports/india/log"
        assert _queued_in_redis(redis) == 1

        workers = Workers(settings_path, tmp_path)
        workers.start("w1")
        wait_for(lambda: any(r.status != "running" for r, _ in
                             runs_with_children(tmp_path)), 240, "the run on the worker")
        (record, children) = runs_with_children(tmp_path)[0]
        assert record.status == "succeeded", record.error
        assert [c.segment for c in children] == ["Payments"]
        assert smtp_server.received == []  # a regeneration is not sent
        (audit,) = app.state.store.audit_entries(action="regenerate")
        assert audit.user_name == "ana" and (audit.detail or "").startswith("task ")
    finally:
        if workers is not None:
            workers.stop()
        redis.stop()
