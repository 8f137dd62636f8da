"""First lookups in the registries from many threads at once, in fresh interpreters."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.standin_pipeline import definition_text, settings_file, write_rows

import reportgen
from reportgen.executors.schedule_sync import sync_definitions
from reportgen.executors.scheduler import create_scheduler
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.settings import load_settings

TESTS = Path(__file__).resolve().parent
REPO = Path(reportgen.__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(REPO)])}

FIRST_LOOKUPS = textwrap.dedent("""
    import threading
    from reportgen.charts import CHARTS
    from reportgen.metrics import CALCULATORS

    wanted = [(CHARTS, "trend"), (CALCULATORS, "csat")] * 4
    barrier = threading.Barrier(len(wanted))
    failures = []

    def first(registry, name):
        barrier.wait()
        try:
            registry.get(name)
        except Exception as exc:
            failures.append(repr(exc))

    threads = [threading.Thread(target=first, args=pair) for pair in wanted]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(len(failures), failures[:1])
""")


def test_eight_threads_making_the_first_lookup_all_find_the_builtins() -> None:
    for _ in range(3):  # a fresh interpreter each time: the lookups are truly the first
        done = subprocess.run([sys.executable, "-c", FIRST_LOOKUPS], env=ENV,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "0 []"


DAEMON = textwrap.dedent("""
    import logging, sys, threading
    from pathlib import Path
    from reportgen.executors.daemon import run_daemon, stop_on_signals

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    stop = threading.Event()
    stop_on_signals(stop)
    run_daemon(Path(sys.argv[1]), Path(sys.argv[2]), stop_event=stop, sync_seconds=600)
""")

REPORTS = ("alpha", "bravo", "charlie", "delta")


def test_four_reports_firing_at_once_in_a_fresh_daemon_all_succeed(tmp_path: Path) -> None:
    period = Period.last_complete(datetime.now(UTC), "month", "Europe/Berlin")
    team = tmp_path / "team"
    team.mkdir()
    write_rows(team / "tickets.csv", period, 12)
    for report_id in REPORTS:
        (team / f"{report_id}.yaml").write_text(definition_text(report_id), encoding="utf-8")
    settings = settings_file(tmp_path, None, send=False)
    # Jobs persisted by an earlier scheduler, all due now (as after a restart on the
    # monthly cron); the new daemon reads another, empty folder, so nothing it does
    # before the jobs fire looks a name up in a registry.
    earlier = create_scheduler(load_settings(settings))
    earlier.start(paused=True)
    sync_definitions(earlier, team, settings_path=settings)
    for report_id in REPORTS:
        earlier.modify_job(report_id, next_run_time=datetime.now(UTC) - timedelta(seconds=30))
    earlier.shutdown()
    empty = tmp_path / "definitions"
    empty.mkdir()

    child = subprocess.Popen([sys.executable, "-c", DAEMON, str(empty), str(settings)],
                             env=ENV, stderr=subprocess.PIPE, text=True)
    ledger = Ledger(load_settings(settings).resolved_ledger_url())
    try:
        deadline = time.monotonic() + 20
        finished: list[str] = []
        while time.monotonic() < deadline and child.poll() is None:
            finished = [r.report_id for r in ledger.history() if r.status != "running"]
            if len(finished) == len(REPORTS):
                break
            time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGTERM)
        _, log = child.communicate(timeout=30)
        ledger.close()

    assert "skipped" not in log and "unknown" not in log, log
    records = Ledger(load_settings(settings).resolved_ledger_url()).history()
    assert sorted((r.report_id, r.status) for r in records) == [
        (report_id, "succeeded") for report_id in REPORTS], log
