"""Where runs are placed: the Executor each way into reportgen hands its RunRequest to.

Real pipeline over a copy of the demo database, a SQLite ledger, a real Redis for the
Celery placement; the adapters are checked to hold no run wiring of their own.
"""

from __future__ import annotations

import ast
import base64
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from support.paths import REPO
from support.redis_server import RedisServer, available

from reportgen.executors.job_thread import JobQueue
from reportgen.executors.placement import (
    CeleryExecutor,
    InlineExecutor,
    LedgerJobExecutor,
    executor_for,
)
from reportgen.ledger.store import Ledger
from reportgen.run.core import RunRequest
from reportgen.run.events import RunEvent, RunFinished, StageStarted
from reportgen.settings import Settings

NOW = datetime(2026, 10, 2, 7, tzinfo=UTC)


def _definition(demo_dir: Path, folder: Path) -> Path:
    database = folder / "responses.sqlite"
    shutil.copyfile(demo_dir / "reportgen_demo.sqlite", database)
    path = folder / "csat-placed.yaml"
    path.write_text(yaml.safe_dump({
        "id": "csat-placed", "title": "CSAT", "owner": "owner@example.com",
        "period": {"grain": "month", "timezone": "UTC", "history": 3},
        "sources": {"responses": {
            "kind": "sql", "url": f"sqlite:///{database}", "table": "csat_responses",
            "time_column": "responded_at", "columns": {"rating": "int", "queue": "str"}}},
        "metrics": [{"id": "csat", "label": "CSAT", "calculator": "csat",
                     "source": "responses", "params": {"column": "rating"}}],
        "sections": [{"id": "voc", "title": "Voice of the customer", "kpis": ["csat"]}],
        "outputs": [{"format": "xlsx"}],
    }), encoding="utf-8")
    return path


def _settings(folder: Path, **more: object) -> Settings:
    return Settings(ledger_url=f"sqlite:///{folder / 'runs.sqlite'}", out_dir=folder / "out",
                    **more)


def test_the_settings_choose_celery_or_this_process(tmp_path):
    assert isinstance(executor_for(_settings(tmp_path), None), InlineExecutor)
    chosen = executor_for(_settings(tmp_path, executor="celery",
                                    broker_url="redis://127.0.0.1:1/0"), "s.yaml")
    assert isinstance(chosen, CeleryExecutor) and chosen.settings_path == "s.yaml"


def test_inline_runs_to_the_end_here_and_tells_the_events(demo_dir, tmp_path):
    told: list[RunEvent] = []
    placed = InlineExecutor(_settings(tmp_path), now=lambda: NOW).place(
        RunRequest(_definition(demo_dir, tmp_path), "2026-09"), sink=told.append)
    assert placed.executor == "inline" and placed.job_id is None
    record = placed.outcome.record
    assert record.status == "succeeded" and record.period == "2026-09"
    assert isinstance(told[-1], RunFinished) and told[-1].run_id == record.id


def test_a_ledger_job_returns_at_once_and_ends_with_its_run(demo_dir, tmp_path):
    settings = _settings(tmp_path)
    ledger = Ledger(settings.resolved_ledger_url(), out_dir=settings.resolved_out_dir())
    queue = JobQueue(ledger.engine, lambda: NOW)
    try:
        told: list[RunEvent] = []
        placed = LedgerJobExecutor(settings, queue, ledger=ledger, now=lambda: NOW).place(
            RunRequest(_definition(demo_dir, tmp_path), "2026-09", requested_by="ana"),
            sink=told.append)
        assert placed.outcome is None and placed.job_id is not None
        assert queue.finished[placed.job_id].wait(120)
        job = queue.get(placed.job_id)
        assert (job.kind, job.state, job.user_name, job.period) == (
            "regenerate", "finished", "ana", "2026-09")
        run = ledger.get_run(job.run_id)
        assert (run.status, job.run_status) == ("succeeded", "succeeded")
        # the caller's sink hears the run too, not only the job's stage
        assert any(isinstance(e, StageStarted) and e.stage == "data" for e in told)
    finally:
        queue.shutdown()
        ledger.close()


@pytest.mark.skipif(not available(), reason="redis-server is not installed (make test "
                                            "installs it)")
def test_celery_placement_puts_the_request_on_the_broker(demo_dir, tmp_path):
    redis = RedisServer(tmp_path / "redis").start()
    try:
        definition = _definition(demo_dir, tmp_path)
        settings = _settings(tmp_path, executor="celery", broker_url=redis.url)
        placed = executor_for(settings, "settings.yaml").place(
            RunRequest(definition, "2026-09", trigger="manual"))
        assert placed.executor == "celery" and placed.task_id and placed.outcome is None
        cli = shutil.which("redis-cli") or "redis-cli"
        raw = subprocess.run([cli, "-u", redis.url, "LRANGE", "reportgen", "0", "-1"],
                             capture_output=True, text=True, check=True).stdout.strip()
        message = json.loads(raw.splitlines()[0])
        assert message["headers"]["id"] == placed.task_id
        assert message["headers"]["task"] == "reportgen.run"
        assert message["properties"]["body_encoding"] == "base64"
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        # how the run is made travels with it: a request asked for by hand is not sent
        assert (args, kwargs) == ([str(definition), "settings.yaml", "2026-09", "manual"],
                                  {"options": {"send": False, "segment": None,
                                               "requested_by": None}})
    finally:
        redis.stop()


def _calls_execute(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "reportgen.run.core" and any(
                alias.name == "execute" for alias in node.names):
            return True
    return False


def test_only_the_executors_start_runs():
    """The command line, the daemon, the web page and the Celery tasks hold no run wiring:
    only ``executors/placement.py`` calls the run core."""
    package = REPO / "reportgen"
    callers = sorted(str(p.relative_to(package)) for p in package.rglob("*.py")
                     if _calls_execute(p))
    assert callers == ["executors/placement.py"]
