"""Celery workers for the tests: settings for executor celery on a real Redis, worker
processes started and stopped, and the run ledger they write read back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from reportgen.ledger.store import Ledger
from support.paths import REPO
from support.redis_server import RedisServer


def celery_settings(folder: Path, redis: RedisServer, smtp, **tuned: object) -> Path:
    """Settings for the workers: the defaults (render processes, concurrent runs) unless
    ``tuned`` sets them."""
    path = folder / "settings.yaml"
    path.write_text(yaml.safe_dump({
        "ledger_url": "sqlite:///runs.sqlite", "out_dir": "out", "lock_minutes": 5,
        "executor": "celery", "broker_url": redis.url, "allowed_domains": ["example.com"],
        **tuned,
        "smtp": {"host": smtp.host, "port": smtp.port, "security": "none",
                 "from_address": "reports@example.com", "timeout": 10, "attempts": 1,
                 "local_hostname": "reportgen.test"},
    }), encoding="utf-8")
    return path


class Workers:
    def __init__(self, settings: Path, folder: Path):
        self.settings, self.folder = settings, folder
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, **extra_env: str) -> None:
        env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'tests'}", **extra_env}
        log = (self.folder / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "reportgen.cli", "worker", "--settings", str(self.settings),
             "--concurrency", "1", "--name", f"{name}@test"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def process_dead(pid: int) -> bool:
    """The process is gone, or a zombie nobody has reaped yet (its parent was killed too)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def runs_with_children(tmp_path: Path) -> list:
    ledger = Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    try:
        return [(r, ledger.children_of(r.id)) for r in ledger.history()]
    finally:
        ledger.close()
