"""Crashes and signals in the middle of a delivery, with the real command in a subprocess,
the real pipeline, a real SMTP server on loopback and the ledger in a SQLite file.

The server holds a chosen message in DATA: it has the whole message (and keeps it) but
has not answered, which is the one moment a sender cannot know whether it was delivered.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from cli.test_cli_delivery import RECIPIENTS, _definition, _settings
from support.smtp_server import SmtpServer

import reportgen
from reportgen.ledger.schema import run_locks
from reportgen.ledger.store import Ledger

REPO = Path(reportgen.__file__).resolve().parent.parent
EVERYONE = RECIPIENTS["to"] + RECIPIENTS["bcc"]  # director, head-of-quality, archive
SECOND = RECIPIENTS["to"][1]  # the message the server holds
OWNER = "owner@example.com"


def _command(definition: Path, settings: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "reportgen.cli", "run", str(definition), "--period",
            "2026-09", "--settings", str(settings), "--send", *extra]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}


def _start_held(command: list[str], server: SmtpServer, number: int) -> subprocess.Popen[str]:
    """Start ``command`` and return once the server holds its ``number``-th message."""
    server.handler.hold_in_data(number)
    child = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    if not server.handler.holding.wait(120):
        child.kill()
        pytest.fail(f"the run never reached DATA: {child.communicate()[1]}")
    return child


def _counts(server: SmtpServer) -> dict[str, int]:
    return {rcpt: len(items) for rcpt, items in server.by_recipient().items()}


def test_a_run_killed_in_data_is_not_sent_twice_and_its_lock_does_not_block(
        demo_dir: Path, tmp_path: Path, smtp_server: SmtpServer) -> None:
    definition = _definition(demo_dir, tmp_path)
    settings = _settings(tmp_path, smtp_server)
    ledger_url = f"sqlite:///{tmp_path / 'runs.sqlite'}"

    child = _start_held(_command(definition, settings), smtp_server, 2)
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(30) == -signal.SIGKILL
    smtp_server.handler.release.set()

    ledger = Ledger(ledger_url)
    (crashed,) = ledger.history()
    assert crashed.status == "running"
    assert {d.recipient: d.status for d in crashed.deliveries} == {
        EVERYONE[0]: "sent", SECOND: "sending"}
    first_id = smtp_server.by_recipient()[SECOND][0].message["Message-ID"]
    assert crashed.deliveries[1].smtp_message_id == first_id  # recorded before DATA
    with ledger.engine.connect() as conn:
        (lock,) = conn.execute(sa.select(run_locks)).mappings().all()
    assert lock["pid"] == child.pid  # the dead process still "holds" the lock

    # Run again at once: the dead holder's lock is taken over; the recipient whose
    # outcome is unknown is held (it did get the message), the rest is sent.
    rerun = subprocess.run(_command(definition, settings), env=_env(), capture_output=True,
                           text=True, timeout=180)
    assert rerun.returncode == 1, rerun.stderr
    assert "delivered in part" in rerun.stderr
    assert _counts(smtp_server) == {**{r: 1 for r in EVERYONE}, OWNER: 1}
    partial, failed = ledger.history()
    assert failed.id == crashed.id and failed.status == "failed"
    assert f"process {child.pid} on" in (failed.error or "")
    assert partial.status == "partial" and SECOND in (partial.error or "")
    states = {d.recipient: d.status for d in ledger.history()[0].deliveries}
    assert states == {SECOND: "unconfirmed", EVERYONE[2]: "sent"}
    (alert,) = smtp_server.by_recipient()[OWNER]
    assert alert.message["Subject"] == "[partial] Mini Quality Report — September 2026"
    body = alert.message.get_content()
    assert SECOND in body and "--confirm-unknown" in body

    # The owner decides to resend: the same Message-ID goes out, so the copy can be
    # recognised; nobody else hears anything, and the owner is not alerted again.
    resend = subprocess.run(_command(definition, settings, "--confirm-unknown", "resend"),
                            env=_env(), capture_output=True, text=True, timeout=180)
    assert resend.returncode == 0, resend.stderr
    assert _counts(smtp_server) == {**{r: 1 for r in EVERYONE}, SECOND: 2, OWNER: 1}
    copies = {m.message["Message-ID"] for m in smtp_server.by_recipient()[SECOND]}
    assert copies == {first_id}
    state = ledger.delivery_state("mini", "2026-09", "email", SECOND)
    assert state is not None and state.status == "sent" and state.smtp_message_id == first_id
    assert ledger.history()[0].status == "succeeded"
    ledger.close()


def test_sigterm_in_data_records_the_run_interrupted_and_frees_its_lock(
        demo_dir: Path, tmp_path: Path, smtp_server: SmtpServer) -> None:
    definition = _definition(demo_dir, tmp_path)
    settings = _settings(tmp_path, smtp_server)
    data = yaml.safe_load(settings.read_text(encoding="utf-8"))
    settings.write_text(yaml.safe_dump({**data, "lock_minutes": 7}), encoding="utf-8")
    ledger = Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}")

    child = _start_held(_command(definition, settings), smtp_server, 1)
    with ledger.engine.connect() as conn:
        (lock,) = conn.execute(sa.select(run_locks)).mappings().all()
    assert lock["expires_at"] - lock["acquired_at"] == timedelta(minutes=7)  # lock_minutes
    child.send_signal(signal.SIGTERM)
    try:
        assert child.wait(30) == 143
    finally:
        smtp_server.handler.release.set()
    assert child.stderr is not None and "terminated" in child.stderr.read()

    (run,) = ledger.history()
    assert run.status == "interrupted" and "Terminated" in (run.error or "")
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.select(run_locks)).first() is None
    assert run.deliveries[0].status == "sending"

    # Not blocked; the cut-off recipient (the server kept the message) is confirmed by the
    # owner's word rather than sent again.
    again = subprocess.run(_command(definition, settings, "--confirm-unknown", "sent"),
                           env=_env(), capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stderr
    assert _counts(smtp_server) == {r: 1 for r in EVERYONE}
    assert ledger.history()[0].status == "succeeded"
    ledger.close()
