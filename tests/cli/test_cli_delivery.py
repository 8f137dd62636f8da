"""The commands a report owner runs, end to end: the real pipeline, a real SMTP server on
loopback, the ledger in a SQLite file, and the scheduler daemon stopped by SIGTERM."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader
from support.smtp_server import SmtpServer

from reportgen.cli import main

RECIPIENTS = {"to": ["director@example.com", "head-of-quality@example.com"],
              "bcc": ["archive@example.com"]}


def _definition(demo_dir: Path, folder: Path) -> Path:
    data = {
        "id": "mini", "title": "Mini Quality Report", "organisation": "Test Org",
        "owner": "owner@example.com",
        "period": {"grain": "month", "timezone": "Europe/Berlin", "history": 4},
        "sources": {"responses": {
            "kind": "sql", "url": f"sqlite:///{demo_dir / 'reportgen_demo.sqlite'}",
            "table": "csat_responses", "time_column": "responded_at",
            "columns": {"rating": "int", "queue": "str"}}},
        "metrics": [{"id": "csat", "label": "CSAT", "calculator": "csat", "source": "responses",
                     "params": {"column": "rating"}, "by": ["queue"], "target": 0.85}],
        "sections": [{"id": "voc", "title": "Voice of the customer", "kpis": ["csat"],
                      "tables": [{"metric": "csat", "by": "queue"}]}],
        "schedule": {"cron": "0 7 2 * *"},
        "delivery": {"email": {**RECIPIENTS, "subject": "{title} — {period}"}},
    }
    path = folder / "mini.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _settings(folder: Path, server: SmtpServer) -> Path:
    path = folder / "settings.yaml"
    path.write_text(yaml.safe_dump({
        "ledger_url": "sqlite:///runs.sqlite", "out_dir": "out",
        "smtp": {"host": server.host, "port": server.port, "security": "none",
                 "from_address": "reports@example.com", "timeout": 5, "attempts": 1,
                 "local_hostname": "reportgen.test"}}), encoding="utf-8")
    return path


def _history(settings: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    capsys.readouterr()
    assert main(["history", "--json", "--settings", str(settings)]) == 0
    return json.loads(capsys.readouterr().out)


def test_run_send_delivers_the_real_report_once_per_recipient(
        demo_dir, tmp_path, smtp_server, capsys):
    definition = _definition(demo_dir, tmp_path)
    settings = _settings(tmp_path, smtp_server)
    out = tmp_path / "out"
    args = ["run", str(definition), "--period", "2026-09", "--out", str(out),
            "--settings", str(settings), "--send"]
    assert main(args) == 0
    messages = smtp_server.wait_for(3)
    assert sorted(r for m in messages for r in m.rcpt_tos) == sorted(
        RECIPIENTS["to"] + RECIPIENTS["bcc"])

    (run,) = _history(settings, capsys)
    assert run["status"] == "succeeded"
    (artifact,) = run["artifacts"]
    for received in messages:
        message = received.message
        assert message["Subject"] == "Mini Quality Report — September 2026"
        assert "archive@example.com" not in str(message)  # bcc never in headers
        (attachment,) = [p for p in message.iter_attachments()]
        data = attachment.get_payload(decode=True)
        assert hashlib.sha256(data).hexdigest() == artifact["sha256"]
        pdf_text = "".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        csat_text = next(line for line in text.splitlines() if "CSAT" in line)
        value = csat_text.split(":")[1].split()[0]  # e.g. "78.2%"
        assert value in html and value in pdf_text

    # The same command again: a new run, but nobody receives the report twice.
    assert main(args) == 0
    time.sleep(0.3)
    assert len(smtp_server.received) == 3
    runs = _history(settings, capsys)
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]

    # Each run keeps its own files: the rerun wrote beside the first run's report, so the
    # first run can still be resent with exactly the bytes it was sent with.
    first_pdf = Path(run["artifacts"][0]["path"])
    rerun = next(r for r in runs if r["id"] != run["id"])
    assert first_pdf.is_file() and first_pdf != Path(rerun["artifacts"][0]["path"])
    assert hashlib.sha256(first_pdf.read_bytes()).hexdigest() == run["artifacts"][0]["sha256"]
    # ... and a file changed after it was rendered is refused rather than sent under its name
    first_pdf.write_bytes(first_pdf.read_bytes() + b"%")
    capsys.readouterr()
    assert main(["resend", str(run["id"]), "--settings", str(settings)]) == 1
    assert "changed after it was rendered" in capsys.readouterr().err
    # resend is the one way to send again, and only to whom it names
    newest = max(r["id"] for r in runs)
    assert main(["resend", str(newest), "--to", "director@example.com",
                 "--settings", str(settings)]) == 0
    assert [list(m.rcpt_tos) for m in smtp_server.wait_for(4)[3:]] == [["director@example.com"]]


def test_schedule_daemon_lists_its_jobs_and_stops_cleanly_on_sigterm(demo_dir, tmp_path,
                                                                       smtp_server):
    folder = tmp_path / "definitions"
    folder.mkdir()
    _definition(demo_dir, folder)
    settings = _settings(tmp_path, smtp_server)
    listing = subprocess.run(
        [sys.executable, "-m", "reportgen.cli", "schedule", str(folder), "--list",
         "--settings", str(settings)], capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0, listing.stderr
    assert "mini" in listing.stdout and "0 7 2 * *" in listing.stdout
    assert "Europe/Berlin" in listing.stdout

    daemon = subprocess.Popen(
        [sys.executable, "-m", "reportgen.cli", "schedule", str(folder),
         "--settings", str(settings)],
        stderr=subprocess.PIPE, text=True,
        # PYTHONFAULTHANDLER: a SIGABRT prints every thread's stack, should it hang
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"})
    try:
        seen = ""
        deadline = time.monotonic() + 90
        while "job mini: next run" not in seen and time.monotonic() < deadline:
            line = daemon.stderr.readline()
            if not line:
                break
            seen += line
        assert "job mini: next run" in seen, seen
        daemon.send_signal(signal.SIGTERM)
        try:  # communicate, not wait: the daemon's log must not fill the pipe and block it
            _, rest = daemon.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.send_signal(signal.SIGABRT)
            _, rest = daemon.communicate(timeout=30)
            pytest.fail("the daemon did not stop within 30 s of SIGTERM:\n" + seen + rest)
        assert daemon.returncode == 0, seen + rest
        assert "scheduler stopped" in seen + rest
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert smtp_server.received == []  # nothing was due, nothing was sent
