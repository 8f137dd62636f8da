"""Owners hear about reports that did not go out: failed and partial runs, and reports not
delivered by their ``deliver_by`` deadline; plus the cleanup of files left by dead writers.

Real runs (stand-in pipeline), a real SMTP server on loopback, the ledger in a SQLite file;
only the clock is faked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import standin_pipeline as standin
from support.smtp_server import SmtpServer, smtp_settings
from support.standin_pipeline import OWNER, RECIPIENTS, definition_text, settings_file, write_rows

import reportgen
from reportgen.cli import main
from reportgen.errors import DefinitionError
from reportgen.executors.daemon import add_deadline_check
from reportgen.executors.deadlines import check_deadlines_job, parse_deliver_by
from reportgen.executors.scheduler import DEADLINE_JOB_PREFIX, create_scheduler
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.render.files import write_atomically
from reportgen.run.runner import run_report
from reportgen.settings import load_settings

PERIOD = Period.parse("2026-10", "month", "Europe/Berlin")
REFUSED = RECIPIENTS["cc"][0]  # manager@example.com
REPO = Path(reportgen.__file__).resolve().parent.parent


def run(report_dir: Path, ledger: Ledger, server: SmtpServer, **kwargs):
    loaded = standin.load_definition(report_dir / "mqr.yaml")
    return run_report(loaded, PERIOD, trigger="schedule", ledger=ledger,
                      out_dir=report_dir / "out", send=True, smtp=smtp_settings(server),
                      build=kwargs.pop("build", standin.build_report),
                      render=standin.render_outputs, sleep=lambda s: None, **kwargs)


def alerts_to_owner(server: SmtpServer) -> list[str]:
    return [m.message["Subject"] for m in server.by_recipient().get(OWNER, [])]


def test_a_partial_run_is_its_own_status_and_alerts_the_owner_once(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    smtp_server.handler.refuse[REFUSED] = "550 5.1.1 no such mailbox"

    first = run(report_dir, ledger, smtp_server)
    second = run(report_dir, ledger, smtp_server)  # still refused: no second alert

    assert (first.status, second.status) == ("partial", "partial")
    assert REFUSED in (first.error or "") and "550 5.1.1 no such mailbox" in (first.error or "")
    delivered = smtp_server.by_recipient()
    assert {r: len(delivered[r]) for r in RECIPIENTS["to"] + RECIPIENTS["bcc"]} == {
        "director@example.com": 1, "auditor@example.com": 1}
    assert alerts_to_owner(smtp_server) == ["[partial] Monthly Quality Report — October 2026"]
    (alert,) = smtp_server.by_recipient()[OWNER]
    assert REFUSED in alert.message.get_content()
    assert alert.message["X-Reportgen-Alert"] == "partial mqr 2026-10"
    (record,) = ledger.alerts("mqr")
    assert (record.kind, record.status, record.run_id) == ("partial", "sent", first.id)

    capsys.readouterr()
    assert main(["history", "--ledger", ledger.url]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert [row[4] for row in rows] == ["partial", "partial"]  # never 'succeeded'

    # The recipient is fixed: the next run reaches only them, and the period is complete.
    smtp_server.handler.refuse.clear()
    third = run(report_dir, ledger, smtp_server)
    assert third.status == "succeeded"
    assert len(smtp_server.by_recipient()[REFUSED]) == 1
    assert len(smtp_server.by_recipient()["director@example.com"]) == 1


def test_a_run_no_recipient_received_is_failed_and_alerts_once(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    for address in RECIPIENTS["to"] + RECIPIENTS["cc"] + RECIPIENTS["bcc"]:
        smtp_server.handler.refuse[address] = "550 5.7.1 relaying denied"

    record = run(report_dir, ledger, smtp_server)
    run(report_dir, ledger, smtp_server)

    assert record.status == "failed"
    assert alerts_to_owner(smtp_server) == ["[failed] Monthly Quality Report — October 2026"]
    assert sorted(smtp_server.by_recipient()) == [OWNER]


def test_an_alert_the_server_refuses_is_recorded_and_does_not_fail_the_run_twice(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    smtp_server.handler.refuse[REFUSED] = "550 5.1.1 no such mailbox"
    smtp_server.handler.refuse[OWNER] = "451 4.3.0 try again later"

    record = run(report_dir, ledger, smtp_server)

    assert record.status == "partial"
    (alert,) = ledger.alerts("mqr")
    assert alert.status == "failed" and "451" in (alert.error or "")
    smtp_server.handler.refuse.pop(OWNER)
    run(report_dir, ledger, smtp_server)  # a failed alert is tried again by the next run
    assert alerts_to_owner(smtp_server) == ["[partial] Monthly Quality Report — October 2026"]


def test_with_the_mail_server_down_a_held_run_records_and_logs_the_owner_notice(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer,
        caplog: pytest.LogCaptureFixture) -> None:
    write_rows(report_dir / "tickets.csv", PERIOD, 2)  # fewer than the gate's 5 rows
    smtp_server.stop()  # nothing listens on its port now

    with caplog.at_level("ERROR", logger="reportgen"):
        record = run(report_dir, ledger, smtp_server)

    assert record.status == "held"
    (alert,) = ledger.alerts("mqr")
    assert (alert.kind, alert.status, alert.recipient, alert.run_id) == (
        "hold-notice", "failed", OWNER, record.id)
    assert "Connection refused" in (alert.error or "")
    assert any(OWNER in r.getMessage() and "could not tell the owner" in r.getMessage()
               for r in caplog.records), caplog.text


def test_without_smtp_settings_the_alert_a_failed_run_needs_is_recorded_and_logged(
        report_dir: Path, ledger: Ledger, caplog: pytest.LogCaptureFixture) -> None:
    loaded = standin.load_definition(report_dir / "mqr.yaml")

    with caplog.at_level("ERROR", logger="reportgen"):
        record = run_report(loaded, PERIOD, trigger="schedule", ledger=ledger,
                            out_dir=report_dir / "out", send=True, smtp=None,
                            build=standin.build_report, render=standin.render_outputs,
                            sleep=lambda s: None)

    assert record.status == "failed"
    (alert,) = ledger.alerts("mqr")
    assert (alert.kind, alert.status, alert.run_id) == ("failed", "failed", record.id)
    assert "no 'smtp' section" in (alert.error or "")
    assert any("could not tell the owner" in r.getMessage() for r in caplog.records)


# --- deliver_by -------------------------------------------------------------------------------
# cron '0 7 2 * *' in Europe/Berlin: October's report is scheduled 2026-11-02 07:00 CET
SCHEDULED = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def deadline_folder(tmp_path: Path, server: SmtpServer, deliver_by: str) -> Path:
    folder = tmp_path / "definitions"
    folder.mkdir()
    schedule = {"cron": "0 7 2 * *", "deliver_by": deliver_by}
    (folder / "mqr.yaml").write_text(definition_text(extra={"schedule": schedule}),
                                     encoding="utf-8")
    (folder / "qbr.yaml").write_text(definition_text("qbr", title="Quarterly Review",
                                                     extra={"schedule": schedule}),
                                     encoding="utf-8")
    write_rows(folder / "tickets.csv", PERIOD, 12)
    settings_file(folder, server)
    return folder


def test_a_report_not_delivered_by_its_deadline_alerts_the_owner_once(
        tmp_path: Path, smtp_server: SmtpServer) -> None:
    folder = deadline_folder(tmp_path, smtp_server, "6h")
    settings_path = folder / "settings.yaml"
    settings = load_settings(settings_path)
    # qbr went out on time; mqr's run is held by its gates.
    ledger = Ledger(settings.resolved_ledger_url(), now=lambda: SCHEDULED)
    done = run_report(standin.load_definition(folder / "qbr.yaml"), PERIOD, trigger="schedule",
                      ledger=ledger, out_dir=folder / "out", send=False, smtp=None,
                      build=standin.build_report, render=standin.render_outputs)
    assert done.status == "succeeded"
    held = ledger.start_run("mqr", "2026-10", trigger="schedule", definition_hash="h",
                            code_version="t")
    ledger.finish_run(held, "held", error="source 'tickets': 2 rows in 2026-10")

    def check(moment: datetime) -> int:
        return check_deadlines_job(str(folder), str(settings_path), now=lambda: moment)

    assert check(SCHEDULED + timedelta(hours=5, minutes=59)) == 0  # not yet late
    assert check(SCHEDULED + timedelta(hours=6, minutes=1)) == 1
    assert check(SCHEDULED + timedelta(hours=6, minutes=6)) == 0  # said once
    assert check(SCHEDULED + timedelta(days=1)) == 0

    assert alerts_to_owner(smtp_server) == ["[late] Monthly Quality Report — October 2026"]
    body = smtp_server.by_recipient()[OWNER][0].message.get_content()
    assert "Nov 2, 2026, 1:00 PM CET" in body  # the deadline, in the schedule's timezone
    assert f"#{held} (schedule), is held: source 'tickets': 2 rows" in body
    (alert,) = ledger.alerts()
    assert (alert.report_id, alert.period, alert.kind, alert.run_id) == (
        "mqr", "2026-10", "late", held)
    ledger.close()


def test_a_local_time_deadline_and_an_old_one(tmp_path: Path, smtp_server: SmtpServer) -> None:
    folder = deadline_folder(tmp_path, smtp_server, "09:30")
    settings_path = str(folder / "settings.yaml")

    def check(moment: datetime) -> int:
        return check_deadlines_job(str(folder), settings_path, now=lambda: moment)

    # 09:30 in Berlin on the 2nd is 08:30 UTC; a report never run at all is late too.
    assert check(datetime(2026, 11, 2, 8, 29, tzinfo=UTC)) == 0
    assert check(datetime(2026, 11, 2, 8, 31, tzinfo=UTC)) == 2
    body = smtp_server.by_recipient()[OWNER][0].message.get_content()
    assert "No run of it has been recorded" in body
    # A month later the deadline of that older period is not alerted again or anew.
    assert check(datetime(2026, 11, 20, 9, 0, tzinfo=UTC)) == 0
    assert len(alerts_to_owner(smtp_server)) == 2


def test_deliver_by_is_validated_with_its_location(write_definition) -> None:
    from reportgen.definition import load_definition

    text = definition_text(extra={"schedule": {"cron": "0 7 2 * *", "deliver_by": "noon"}})
    path = write_definition(text)
    with pytest.raises(DefinitionError) as error:
        load_definition(path)
    message = str(error.value)
    assert f"{path.name}:" in message and "schedule.deliver_by" in message
    assert "'6h', '90m'" in message and "'09:30'" in message and "'noon'" in message
    for wrong in ("0h", "25:00", "6 hours", "-1h"):
        with pytest.raises(ValueError):
            parse_deliver_by(wrong)
    assert parse_deliver_by("90m").after == timedelta(minutes=90)


def test_the_daemon_schedules_the_deadline_check(tmp_path: Path, smtp_server: SmtpServer) -> None:
    folder = deadline_folder(tmp_path, smtp_server, "6h")
    settings_path = folder / "settings.yaml"
    scheduler = create_scheduler(load_settings(settings_path))
    scheduler.start(paused=True)
    try:
        add_deadline_check(scheduler, folder, settings_path)
        add_deadline_check(scheduler, folder, settings_path)  # a restart replaces it
        (job,) = [j for j in scheduler.get_jobs() if j.id.startswith(DEADLINE_JOB_PREFIX)]
        assert job.func is check_deadlines_job
        assert job.args == (str(folder.resolve()), str(settings_path.resolve()))
        assert job.trigger.interval == timedelta(minutes=5)
    finally:
        scheduler.shutdown(wait=False)


# --- files left by dead writers ---------------------------------------------------------------
WRITER = """
import sys, time
from pathlib import Path
from reportgen.render.files import write_atomically

def write(tmp):
    tmp.write_bytes(b"%PDF-half")
    print(tmp, flush=True)
    time.sleep(120)

write_atomically(Path(sys.argv[1]), "pdf", write)
"""


def test_a_run_removes_part_files_of_dead_writers_only(
        report_dir: Path, ledger: Ledger, smtp_server: SmtpServer) -> None:
    out = report_dir / "out"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(out / "mqr-2026-10.pdf")],
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    assert writer.stdout is not None
    dead_part = Path(writer.stdout.readline().strip())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(30)
    assert dead_part.exists()

    # A writer in this process (alive) has its own .part in the same folder.
    writing, finish = threading.Event(), threading.Event()
    live_parts: list[Path] = []

    def slow(tmp: Path) -> None:
        live_parts.append(tmp)
        writing.set()
        finish.wait(30)
        tmp.write_bytes(b"done")

    live = threading.Thread(target=write_atomically, args=(out / "other.pdf", "pdf", slow))
    live.start()
    try:
        assert writing.wait(10)
        record = run(report_dir, ledger, smtp_server)
        assert record.status == "succeeded"
        assert not dead_part.exists()
        assert live_parts[0].exists()
    finally:
        finish.set()
        live.join(30)
    assert (out / "other.pdf").read_bytes() == b"done"
    # the run wrote into its own folder, beside the other writer's file
    assert sorted(p.name for p in out.iterdir()) == ["mqr", "other.pdf"]
    assert Path(record.artifacts[0].path) == (
        out / "mqr" / "2026-10" / f"run-{record.id}" / "mqr-2026-10.pdf")


def test_a_run_whose_lock_was_taken_over_stops_before_sending(
        report_dir: Path, tmp_path: Path, smtp_server: SmtpServer) -> None:
    from reportgen.ledger.schema import run_locks

    ledger = Ledger(f"sqlite:///{tmp_path / 'lost.sqlite'}",
                    heartbeat_every=timedelta(seconds=0.05))

    def build_then_lose_the_lock(loaded, period, *, now):
        # Another daemon decided this run was dead and took its lock.
        with ledger.engine.begin() as conn:
            conn.execute(run_locks.update().values(token="someone-else"))
        threading.Event().wait(0.5)  # long enough for the heartbeat to notice
        return standin.build_report(loaded, period, now=now)

    record = run(report_dir, ledger, smtp_server, build=build_then_lose_the_lock)

    assert record.status == "failed" and "taken over" in (record.error or "")
    assert sorted(smtp_server.by_recipient()) == [OWNER]  # the report went to nobody
    ledger.close()


def test_a_schedule_paused_on_the_page_raises_no_late_alert(
        tmp_path: Path, smtp_server: SmtpServer) -> None:
    folder = deadline_folder(tmp_path, smtp_server, "6h")
    settings_path = folder / "settings.yaml"
    settings = load_settings(settings_path)
    ledger = Ledger(settings.resolved_ledger_url(), now=lambda: SCHEDULED)
    ledger.pauses.pause("mqr", "alex")
    late = SCHEDULED + timedelta(hours=6, minutes=1)
    # neither report went out; only the one still scheduled is late
    assert check_deadlines_job(str(folder), str(settings_path), now=lambda: late) == 1
    assert alerts_to_owner(smtp_server) == ["[late] Quarterly Review — October 2026"]
    ledger.close()
