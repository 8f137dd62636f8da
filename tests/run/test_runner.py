"""Whole runs: lock, ledger, (stand-in) build and render, delivery to a loopback server."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import standin_pipeline as standin
from support.paths import TESTS
from support.smtp_server import SmtpServer, smtp_settings
from support.standin_pipeline import OWNER, RECIPIENTS, write_rows

import reportgen
from reportgen import secrets
from reportgen.errors import DeliveryError
from reportgen.ledger.store import Ledger, RunLocked
from reportgen.period import Period
from reportgen.run.holds import next_retry_at
from reportgen.run.runner import resend_run, run_report

PERIOD = Period.parse("2026-10", "month", "Europe/Berlin")
T0 = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
ALL = RECIPIENTS["to"] + RECIPIENTS["cc"] + RECIPIENTS["bcc"]


class Clock:
    def __init__(self, start: datetime = T0):
        self.value = start

    def __call__(self) -> datetime:
        return self.value


def run(report_dir: Path, ledger: Ledger, server: SmtpServer | None, *,
        trigger: str = "manual", send: bool = True, **kwargs):
    loaded = standin.load_definition(report_dir / "mqr.yaml")
    return run_report(loaded, PERIOD, trigger=trigger, ledger=ledger,
                      out_dir=report_dir / "out", send=send,
                      smtp=smtp_settings(server) if server else None,
                      build=kwargs.pop("build", standin.build_report),
                      render=standin.render_outputs, sleep=lambda s: None, **kwargs)


def test_a_run_is_recorded_rendered_and_delivered(report_dir: Path, ledger: Ledger,
                                                  smtp_server: SmtpServer) -> None:
    record = run(report_dir, ledger, smtp_server)

    loaded = standin.load_definition(report_dir / "mqr.yaml")
    assert record.status == "succeeded" and record.error is None
    assert record.definition_hash == loaded.hash
    assert record.input_hashes == {"tickets": standin.count_rows(loaded, PERIOD)[2]}
    assert record.code_version and record.code_version != ""
    (artifact,) = record.artifacts
    assert Path(artifact.path).read_bytes()[:5] == b"%PDF-"
    assert {d.recipient: d.status for d in record.deliveries} == {r: "sent" for r in ALL}
    assert sorted(smtp_server.by_recipient()) == sorted(ALL)
    assert record.summary and record.summary["mail"]["kpis"][0]["value_text"] == "12"
    assert not list((report_dir / "out").glob(".*.part"))  # no temp files left behind


def test_without_send_nothing_is_emailed(report_dir: Path, ledger: Ledger,
                                         smtp_server: SmtpServer) -> None:
    record = run(report_dir, ledger, smtp_server, send=False)
    assert record.status == "succeeded" and record.deliveries == ()
    assert smtp_server.received == []


def test_a_failing_gate_holds_tells_the_owner_and_a_retry_delivers(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    write_rows(report_dir / "tickets.csv", PERIOD, 2)  # the data is not all in yet
    clock = Clock()

    held = run(report_dir, ledger, smtp_server, trigger="schedule", now=clock)

    assert held.status == "held"
    assert "2 rows in 2026-10, fewer than the 5 required" in (held.error or "")
    assert held.next_retry_at == T0 + timedelta(minutes=60)
    assert held.artifacts == () and not (report_dir / "out").exists()
    (notice,) = smtp_server.received
    assert notice.rcpt_tos == (OWNER,)
    assert notice.message["Subject"].startswith("[held] Monthly Quality Report")
    assert "fewer than the 5 required" in notice.message.get_content()

    clock.value = held.next_retry_at
    again = run(report_dir, ledger, smtp_server, trigger="retry", now=clock)
    assert again.status == "held" and again.attempt == 2
    assert again.next_retry_at == clock.value + timedelta(minutes=120)  # backed off
    assert len(smtp_server.received) == 1  # the owner is told once per period

    write_rows(report_dir / "tickets.csv", PERIOD, 12)  # the data arrives
    clock.value = again.next_retry_at
    done = run(report_dir, ledger, smtp_server, trigger="retry", now=clock)

    assert done.status == "succeeded" and done.attempt == 3
    by_rcpt = smtp_server.by_recipient()
    assert {r: len(by_rcpt.get(r, [])) for r in ALL} == {r: 1 for r in ALL}
    assert len(by_rcpt[OWNER]) == 1
    assert [r.status for r in ledger.history("mqr")] == ["succeeded", "held", "held"]


def test_retries_stop_at_the_deadline_and_the_owner_is_told(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    write_rows(report_dir / "tickets.csv", PERIOD, 1)
    clock = Clock()
    run(report_dir, ledger, smtp_server, now=clock)
    clock.value = T0 + timedelta(hours=72)
    last = run(report_dir, ledger, smtp_server, trigger="retry", now=clock)

    assert last.status == "held" and last.next_retry_at is None
    subjects = [m.message["Subject"] for m in smtp_server.received]
    assert subjects[-1].startswith("[held, gave up]") and len(subjects) == 2


def test_next_retry_wait_grows_and_is_capped_by_the_deadline() -> None:
    from reportgen.definition.schedule_specs import RetrySpec

    spec = RetrySpec(every_minutes=60, backoff=2, max_wait_minutes=180, deadline_hours=10)
    waits = [next_retry_at(spec, attempt=a, first_started=T0, now=T0) - T0 for a in (1, 2, 3, 4)]
    assert waits == [timedelta(hours=1), timedelta(hours=2), timedelta(hours=3),
                     timedelta(hours=3)]
    late = T0 + timedelta(hours=9, minutes=30)
    assert next_retry_at(spec, attempt=5, first_started=T0, now=late) == T0 + timedelta(hours=10)
    assert next_retry_at(spec, attempt=6, first_started=T0, now=T0 + timedelta(hours=10)) is None


def test_any_other_error_fails_the_run_with_a_redacted_reason(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    secrets.remember("tok-9f8e7d6c")

    def broken(loaded, period, *, now):
        raise RuntimeError("warehouse refused token tok-9f8e7d6c")

    record = run(report_dir, ledger, smtp_server, build=broken)
    assert record.status == "failed"
    assert record.error == "RuntimeError: warehouse refused token ***"
    # Nobody on the list gets anything; the owner is told, without the secret.
    (alert,) = smtp_server.received
    assert alert.rcpt_tos == (OWNER,)
    assert alert.message["Subject"] == "[failed] Monthly Quality Report — October 2026"
    body = alert.message.get_content()
    assert "warehouse refused token ***" in body and "tok-9f8e7d6c" not in body


def test_sending_without_smtp_settings_fails_clearly(report_dir: Path, ledger: Ledger) -> None:
    record = run(report_dir, ledger, None)
    assert record.status == "failed" and "no 'smtp' section" in (record.error or "")


def test_resend_sends_the_recorded_run_again(report_dir: Path, ledger: Ledger,
                                             smtp_server: SmtpServer) -> None:
    record = run(report_dir, ledger, smtp_server)
    settings = smtp_settings(smtp_server)

    one = resend_run(record.id, "newcomer@example.com", ledger=ledger, smtp=settings)
    everyone = resend_run(record.id, ledger=ledger, smtp=settings)

    assert [o.recipient for o in one.sent] == ["newcomer@example.com"]
    assert sorted(o.recipient for o in everyone.sent) == sorted(ALL)
    assert len(smtp_server.received) == 3 + 1 + 3
    newcomer = smtp_server.by_recipient()["newcomer@example.com"][0].message
    assert newcomer["To"] == "newcomer@example.com" and newcomer["Cc"] is None
    purposes = [d.purpose for d in ledger.get_run(record.id).deliveries]
    assert purposes.count("resend") == 4
    write_rows(report_dir / "tickets.csv", PERIOD, 1)
    held = run(report_dir, ledger, smtp_server, send=False)
    with pytest.raises(DeliveryError, match="only a succeeded or partial run"):
        resend_run(held.id, ledger=ledger, smtp=settings)


def test_two_runners_cannot_run_one_report_period_at_once(
        report_dir: Path, tmp_path: Path, smtp_server: SmtpServer) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    first, second = Ledger(url, holder="daemon-1"), Ledger(url, holder="daemon-2")
    building, release = threading.Event(), threading.Event()
    results = []

    def slow_build(loaded, period, *, now):
        building.set()
        release.wait(10)
        return standin.build_report(loaded, period, now=now)

    worker = threading.Thread(target=lambda: results.append(
        run(report_dir, first, smtp_server, build=slow_build)))
    worker.start()
    assert building.wait(10)
    try:
        with pytest.raises(RunLocked, match="already running in daemon-1"):
            run(report_dir, second, smtp_server)
    finally:
        release.set()
        worker.join(10)

    assert results[0].status == "succeeded"
    assert len(smtp_server.received) == 3
    after = run(report_dir, second, smtp_server)  # free again; and nothing is sent twice
    assert after.status == "succeeded" and len(smtp_server.received) == 3


CHILD = textwrap.dedent("""
    import pickle
    import sys
    from pathlib import Path
    from support import standin_pipeline as standin
    from reportgen.period import Period
    from reportgen.run.runner import run_report
    from reportgen.ledger.store import Ledger
    from reportgen.settings import SmtpSettings

    definition, url, out, port = sys.argv[1:5]
    smtp = SmtpSettings(host="127.0.0.1", port=int(port), security="none",
                        from_address="reports@example.com", timeout=5, attempts=1)
    # The parent loaded the definition; unpickling spares this process the validators.
    loaded = pickle.loads(Path(definition).read_bytes())
    run_report(loaded, Period.parse("2026-10", "month", "Europe/Berlin"), trigger="manual",
               ledger=Ledger(url), out_dir=Path(out), send=True, smtp=smtp,
               build=standin.build_report, render=standin.render_outputs)
""")

def test_a_process_killed_mid_delivery_is_resumed_for_the_rest_only(
        report_dir: Path, tmp_path: Path, smtp_server: SmtpServer) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    repo = Path(reportgen.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(repo)])}
    pickled = tmp_path / "definition.pickle"
    pickled.write_bytes(pickle.dumps(standin.load_definition(report_dir / "mqr.yaml")))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(pickled), url,
         str(report_dir / "out"), str(smtp_server.port)], env=env)
    # The third MAIL command comes only after the second message was accepted and marked.
    smtp_server.handler.on_mail = (
        lambda n: os.kill(child.pid, signal.SIGKILL) if n == 3 else None)
    assert child.wait(60) == -signal.SIGKILL
    smtp_server.handler.on_mail = None

    crashed = Ledger(url)
    (interrupted,) = crashed.history()
    assert interrupted.status == "running"
    assert {d.recipient: d.status for d in interrupted.deliveries} == {
        "director@example.com": "sent", "manager@example.com": "sent",
        "auditor@example.com": "pending"}
    assert sorted(smtp_server.by_recipient()) == ["director@example.com", "manager@example.com"]

    # The dead process's lock names its pid, which is gone: a rerun takes over at once.
    later = Ledger(url)
    rerun = run(report_dir, later, smtp_server)

    assert rerun.status == "succeeded"
    assert {r: len(items) for r, items in smtp_server.by_recipient().items()} == {
        r: 1 for r in ALL}
    assert later.get_run(interrupted.id).status == "failed"
    auditor = later.delivery_state("mqr", "2026-10", "email", "auditor@example.com")
    assert auditor is not None and auditor.status == "sent" and auditor.attempts == 2
