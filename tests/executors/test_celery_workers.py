"""Celery workers with a real Redis broker on loopback: fan-out runs spread over two workers,
every recipient gets exactly one message, even when a worker process is killed mid-task and
its task is handed out again."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.celery_workers import (
    Workers,
    celery_settings,
    process_dead,
    runs_with_children,
    wait_for,
)
from support.fanout_defs import expected_recipients, lead, write_fanout
from support.redis_server import RedisServer, available

from reportgen.executors.broker import enqueue_run, jitter_seconds
from reportgen.settings import load_settings

pytestmark = pytest.mark.skipif(not available(), reason="redis-server is not installed "
                                "(scripts/bootstrap-system.sh test installs it)")



@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def workers(tmp_path: Path, redis: RedisServer, smtp_server) -> Iterator[Workers]:
    pool = Workers(celery_settings(tmp_path, redis, smtp_server, jobs=1, max_concurrent_runs=1),
                   tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def default_workers(tmp_path: Path, redis: RedisServer, smtp_server) -> Iterator[Workers]:
    """Workers whose settings leave ``jobs`` and ``max_concurrent_runs`` at their defaults."""
    pool = Workers(celery_settings(tmp_path, redis, smtp_server), tmp_path)
    yield pool
    pool.stop()


def test_three_fanouts_over_two_workers_reach_every_recipient_once(
        tmp_path, demo_dir, workers, smtp_server):
    reports = ["alpha", "bravo", "charlie"]
    paths = [write_fanout(tmp_path / "defs", demo_dir, r) for r in reports]
    workers.start("w1")
    workers.start("w2")
    settings = load_settings(workers.settings)
    for path in paths:
        enqueue_run(settings, str(path), str(workers.settings), "2026-09", trigger="manual")
    wanted = set().union(*(expected_recipients(r) for r in reports))

    wait_for(lambda: wanted <= set(smtp_server.by_recipient()), 300, "every recipient")
    wait_for(lambda: len(runs_with_children(tmp_path)) == 3
          and all(r.status != "running" for r, _ in runs_with_children(tmp_path)), 60, "the runs")

    got = smtp_server.by_recipient()
    assert set(got) == wanted
    assert {k: len(v) for k, v in got.items() if len(v) != 1} == {}
    runs = runs_with_children(tmp_path)
    assert sorted(r.report_id for r, _ in runs) == reports
    assert all(r.status == "succeeded" and len(kids) == 3 for r, kids in runs)
    # both workers took tasks
    assert "succeeded in" in workers.log("w1") and "succeeded in" in workers.log("w2")


def test_ten_segments_over_two_workers_with_default_settings(
        tmp_path, demo_dir, default_workers, smtp_server):
    """With ``jobs`` unset a fan-out would render on one process per core; a worker's pool
    process is daemonic and may not start any, so it renders in place."""
    from reportgen.demo.catalog import QUEUE_NAMES

    settings = load_settings(default_workers.settings)
    assert settings.jobs is None and "jobs" not in default_workers.settings.read_text()
    halves = {"golf": QUEUE_NAMES[:5], "hotel": QUEUE_NAMES[5:10]}
    assert sum(len(q) for q in halves.values()) == 10
    paths = [write_fanout(tmp_path / "defs", demo_dir, r, q) for r, q in halves.items()]
    default_workers.start("w1")
    default_workers.start("w2")
    for path in paths:
        enqueue_run(settings, str(path), str(default_workers.settings), "2026-09",
                    trigger="manual")
    wanted = set().union(*(expected_recipients(r, q) for r, q in halves.items()))

    wait_for(lambda: wanted <= set(smtp_server.by_recipient()), 300, "every recipient")
    wait_for(lambda: len(runs_with_children(tmp_path)) == 2
          and all(r.status != "running" for r, _ in runs_with_children(tmp_path)), 60, "the runs")

    got = smtp_server.by_recipient()
    assert set(got) == wanted  # no owner alert: nothing failed
    assert {k: len(v) for k, v in got.items() if len(v) != 1} == {}
    runs = runs_with_children(tmp_path)
    assert all(r.status == "succeeded" for r, _ in runs), [(r.status, r.error) for r, _ in runs]
    segments = sorted(c.segment for _, kids in runs for c in kids)
    assert segments == sorted(QUEUE_NAMES[:10])
    assert all(c.status == "succeeded" for _, kids in runs for c in kids)
    logs = default_workers.log("w1") + default_workers.log("w2")
    assert "daemonic" not in logs.replace("a daemonic process", "")  # no AssertionError
    assert "succeeded in" in default_workers.log("w1")
    assert "succeeded in" in default_workers.log("w2")


def test_a_worker_killed_mid_task_is_redelivered_and_nobody_gets_two(
        tmp_path, demo_dir, workers, smtp_server):
    path = write_fanout(tmp_path / "defs", demo_dir, "delta")
    workers.start("w1")
    workers.start("w2")
    settings = load_settings(workers.settings)
    smtp_server.handler.hold_in_data(2)  # the second message: Payments' lead
    enqueue_run(settings, str(path), str(workers.settings), "2026-09", trigger="manual")
    assert smtp_server.handler.holding.wait(300), "the run never reached its second message"

    # the pool process running the task (it holds the ledger's run lock) dies at once
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    with engine.connect() as conn:
        pid = conn.execute(sa.text("SELECT pid FROM run_locks WHERE report_id = 'delta'")
                           ).scalar_one()
    engine.dispose()
    os.kill(pid, signal.SIGKILL)
    smtp_server.handler.release.set()

    # the task is handed out again and the fan-out runs to its end
    wait_for(lambda: any(r.status != "running" for r, _ in runs_with_children(tmp_path)
                      if r.id == max(x.id for x, _ in runs_with_children(tmp_path))), 300,
          "the redelivered run")
    runs = runs_with_children(tmp_path)
    assert len(runs) == 2, [(r.id, r.status) for r, _ in runs]
    got = smtp_server.by_recipient()
    leads = expected_recipients("delta")
    assert leads <= set(got)
    assert {k: len(v) for k, v in got.items() if k in leads} == {k: 1 for k in leads}
    # the cut-off send is unconfirmed, not repeated: the redelivered run says so
    latest, children = runs[0]
    assert latest.status == "partial"
    payments = next(c for c in children if c.segment == "Payments")
    assert [d.status for d in payments.deliveries] == ["unconfirmed"]
    assert lead("delta", "Payments") in payments.error
    # the killed run is not left 'running': taking over its lock closed it
    killed, killed_children = runs[1]
    assert killed.status == "failed" and "finishing" in killed.error
    assert all(c.status != "running" for c in killed_children)


def test_a_whole_worker_killed_mid_task_is_redelivered_to_the_other_and_nobody_gets_two(
        tmp_path, demo_dir, workers, smtp_server):
    """SIGKILL to the worker's whole process group (main process and pool): nobody is left
    to give the task back, so Redis hands it out again once its visibility timeout passes."""
    began = time.monotonic()
    path = write_fanout(tmp_path / "defs", demo_dir, "foxtrot")
    # short enough to keep the test quick, longer than the fan-out takes to run
    visibility = {"REPORTGEN_BROKER_VISIBILITY_SECONDS": "20"}
    workers.start("w1", **visibility)
    workers.start("w2", **visibility)
    settings = load_settings(workers.settings)
    smtp_server.handler.hold_in_data(2)  # the second message: Payments' lead
    enqueue_run(settings, str(path), str(workers.settings), "2026-09", trigger="manual")
    assert smtp_server.handler.holding.wait(60), "the run never reached its second message"

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    with engine.connect() as conn:
        pool_pid = conn.execute(sa.text("SELECT pid FROM run_locks WHERE report_id = "
                                        "'foxtrot'")).scalar_one()
    engine.dispose()
    group = os.getpgid(pool_pid)  # each worker is its own session: its pid is the group's
    (dead,) = [n for n, p in workers.processes.items() if p.pid == group]
    (alive,) = [n for n in workers.processes if n != dead]
    os.killpg(group, signal.SIGKILL)
    workers.processes[dead].wait(10)
    assert workers.processes[dead].returncode == -signal.SIGKILL
    # the pool went with it (SIGKILL to a group is delivered at once, the exit takes a moment)
    wait_for(lambda: process_dead(pool_pid), 10, "the pool process to die with its worker")
    smtp_server.handler.release.set()

    def settled() -> bool:
        runs = runs_with_children(tmp_path)
        return len(runs) >= 2 and all(r.status != "running" for r, _ in runs)

    wait_for(settled, 90 - (time.monotonic() - began), "the run redelivered to the other worker")
    # the surviving worker ran it to its end (Celery logs that just after the ledger is told)
    wait_for(lambda: "succeeded in" in workers.log(alive), 30, "the task's success in its log")
    got = smtp_server.by_recipient()
    leads = expected_recipients("foxtrot")
    assert {k: len(v) for k, v in got.items() if k in leads} == {k: 1 for k in leads}
    runs = runs_with_children(tmp_path)
    latest, children = runs[0]
    payments = next(c for c in children if c.segment == "Payments")
    assert [d.status for d in payments.deliveries] == ["unconfirmed"]
    killed, killed_children = runs[-1]
    assert killed.status == "failed" and all(c.status != "running" for c in killed_children)
    assert time.monotonic() - began < 90


def test_jitter_spreads_reports_and_is_stable():
    a, b = jitter_seconds("mqr", 60), jitter_seconds("qbr", 60)
    assert 0 <= a < 60 and 0 <= b < 60 and a != b
    assert jitter_seconds("mqr", 60) == a and jitter_seconds("mqr", 0) == 0


def test_the_scheduler_enqueues_instead_of_running_with_executor_celery(
        tmp_path, demo_dir, redis, smtp_server):
    import redis as redis_client

    from reportgen.executors.scheduler import run_scheduled_job

    settings = celery_settings(tmp_path, redis, smtp_server)
    path = write_fanout(tmp_path / "defs", demo_dir, "echo")
    assert run_scheduled_job(str(path), str(settings), "2026-09") is None
    queued = redis_client.Redis.from_url(redis.url).lrange("reportgen", 0, -1)
    assert len(queued) == 1 and str(path).encode() in queued[0]
    assert runs_with_children(tmp_path) == [] and smtp_server.received == []  # nothing ran here
