"""A writer stopped while it holds the SQLite ledger's write lock (a SIGSTOP in the middle
of a commit) delays the others by seconds, not minutes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import reportgen
from reportgen.ledger.store import Ledger

REPO = Path(reportgen.__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(REPO)}

# Takes the write lock as a commit does (EXCLUSIVE: in a rollback journal, the lock a
# commit holds while it writes the file), says so, and stops itself there.
HOLDER = textwrap.dedent("""
    import os, signal, sqlite3, sys
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    db.execute("UPDATE runs SET error = 'being written' WHERE id = 1")
    print("holding", flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)
""")


@pytest.fixture
def stopped_writer(tmp_path: Path):
    """A ledger with one run, and a process stopped while holding its write lock."""
    path = tmp_path / "runs.sqlite"
    ledger = Ledger(f"sqlite:///{path}")
    run_id = ledger.start_run("mqr", "2026-09", trigger="manual", definition_hash="h",
                              code_version="t")
    ledger.finish_run(run_id, "succeeded")
    ledger.close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    yield path
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)


def test_history_answers_within_seconds_while_a_writer_is_stopped_mid_commit(
        stopped_writer: Path) -> None:
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "reportgen.cli", "history", "--ledger",
                               f"sqlite:///{stopped_writer}"], env=ENV, capture_output=True,
                              text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("history still waiting for the stopped writer after 20 s")
    elapsed = time.monotonic() - started

    assert elapsed < 10, f"history took {elapsed:.1f} s"
    assert "Traceback" not in done.stderr
    # the committed state, without the stopped writer's uncommitted change
    assert done.returncode == 0, done.stderr
    (row,) = [line for line in done.stdout.splitlines() if " mqr " in line]
    assert "succeeded" in row and "being written" not in row


def test_a_writer_waiting_for_the_stopped_one_fails_cleanly_within_seconds(
        stopped_writer: Path) -> None:
    ledger = Ledger(f"sqlite:///{stopped_writer}")
    started = time.monotonic()
    with pytest.raises(Exception, match="database is locked"):
        ledger.start_run("mqr", "2026-10", trigger="manual", definition_hash="h",
                         code_version="t")
    assert time.monotonic() - started < 10
    assert [r.status for r in ledger.history()] == ["succeeded"]  # reads still answer
    ledger.close()
