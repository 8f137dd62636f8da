"""A real APScheduler on a SQLite job store, running the stand-in pipeline end to end."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.base import BaseScheduler
from support.paths import TESTS
from support.smtp_server import SmtpServer
from support.standin_pipeline import OWNER, definition_text, settings_file, write_rows

import reportgen
from reportgen.executors.daemon import run_daemon, stop_on_signals
from reportgen.executors.schedule_sync import describe_schedule, sync_definitions
from reportgen.executors.scheduler import DEADLINE_JOB_PREFIX, JOB_FUNCTION, create_scheduler
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.settings import load_settings


def current_period() -> Period:
    """The period a scheduled run makes now (jobs read the real clock)."""
    return Period.last_complete(datetime.now(UTC), "month", "Europe/Berlin")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Definitions, data and settings for scheduled runs of the current period."""
    (tmp_path / "mqr.yaml").write_text(definition_text(), encoding="utf-8")
    write_rows(tmp_path / "tickets.csv", current_period(), 12)
    return tmp_path


class Events:
    """Counts a scheduler's executed and missed jobs."""

    def __init__(self, scheduler: BaseScheduler):
        self.executed: list[JobEvent] = []
        self.missed: list[JobEvent] = []
        self.changed = threading.Condition()
        scheduler.add_listener(self._on, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)

    def _on(self, event: JobEvent) -> None:
        with self.changed:
            (self.executed if event.code == EVENT_JOB_EXECUTED else self.missed).append(event)
            self.changed.notify_all()

    def wait(self, executed: int = 0, missed: int = 0, timeout: float = 15) -> None:
        with self.changed:
            assert self.changed.wait_for(
                lambda: len(self.executed) >= executed and len(self.missed) >= missed, timeout)


@pytest.fixture
def started() -> Iterator[list[BaseScheduler]]:
    """Schedulers a test starts; all shut down at the end."""
    schedulers: list[BaseScheduler] = []
    yield schedulers
    for scheduler in schedulers:
        if scheduler.running:
            scheduler.shutdown(wait=True)


def start(settings_path: Path, registry: list[BaseScheduler], *,
          paused: bool = False) -> tuple[BaseScheduler, Events]:
    scheduler = create_scheduler(load_settings(settings_path))
    events = Events(scheduler)
    scheduler.start(paused=paused)
    registry.append(scheduler)
    return scheduler, events


def test_sync_adds_replaces_and_removes_jobs_and_skips_invalid_files(
        folder: Path, started: list[BaseScheduler], caplog: pytest.LogCaptureFixture) -> None:
    settings = settings_file(folder, None)
    (folder / "qbr.yaml").write_text(definition_text("qbr", cron="0 8 5 1,4,7,10 *"))
    (folder / "broken.yaml").write_text("id: broken\ntitle: Broken\nsourcez: {}\n")
    scheduler, _ = start(settings, started, paused=True)

    first = sync_definitions(scheduler, folder, settings_path=settings)

    assert sorted(first.added) == ["mqr", "qbr"]
    assert first.invalid == [str((folder / "broken.yaml").resolve())]
    assert f"{(folder / 'broken.yaml').resolve()}:3" in caplog.text  # file:line of the problem
    job = scheduler.get_job("mqr")
    assert job.func_ref == JOB_FUNCTION
    assert job.args == (str((folder / "mqr.yaml").resolve()), str(settings.resolve()))
    assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (3600, True, 1)
    assert str(job.trigger.timezone) == "Europe/Berlin"

    assert sync_definitions(scheduler, folder, settings_path=settings).unchanged == ["mqr", "qbr"]
    (folder / "mqr.yaml").write_text(definition_text(cron="30 6 3 * *"))
    (folder / "qbr.yaml").unlink()
    second = sync_definitions(scheduler, folder, settings_path=settings)
    assert (second.updated, second.removed) == (["mqr"], ["qbr"])
    assert "hour='6', minute='30'" in str(scheduler.get_job("mqr").trigger)
    scheduler.shutdown()

    # The jobs were pickled into the SQLite store: a new scheduler finds them.
    again, _ = start(settings, started, paused=True)
    assert [j.id for j in again.get_jobs()] == ["mqr"]
    (folder / "mqr.yaml").write_text(
        definition_text(extra={"schedule": {"cron": "0 7 2 * *", "enabled": False}}))
    assert sync_definitions(again, folder, settings_path=settings).removed == ["mqr"]
    assert again.get_jobs() == []


def test_describe_schedule_gives_local_next_run_and_period(folder: Path) -> None:
    (folder / "weekly.yaml").write_text(definition_text(
        "weekly", extra={"period": {"grain": "week", "timezone": "America/New_York"},
                         "schedule": {"cron": "0 6 * * mon", "timezone": "America/New_York"}}))
    rows = {r.report_id: r for r in describe_schedule(folder, datetime(2026, 10, 15, 12,
                                                                        tzinfo=UTC))}

    berlin = ZoneInfo("Europe/Berlin")
    assert rows["mqr"].next_run_local == datetime(2026, 11, 2, 7, 0, tzinfo=berlin)
    assert rows["mqr"].next_period == "2026-10" and rows["mqr"].timezone == "Europe/Berlin"
    weekly = rows["weekly"]
    assert weekly.next_run_local == datetime(2026, 10, 19, 6, 0,
                                             tzinfo=ZoneInfo("America/New_York"))
    assert weekly.next_period == "2026-W42"


def test_a_persisted_job_fires_and_delivers(folder: Path, started: list[BaseScheduler],
                                            smtp_server: SmtpServer) -> None:
    settings = settings_file(folder, smtp_server)
    scheduler, events = start(settings, started, paused=True)
    sync_definitions(scheduler, folder, settings_path=settings)
    scheduler.modify_job("mqr", next_run_time=datetime.now(UTC) + timedelta(seconds=0.2))
    scheduler.resume()

    events.wait(executed=1)

    outcome = events.executed[0].retval
    assert outcome.status == "succeeded" and outcome.period == current_period().key
    (record,) = Ledger(load_settings(settings).resolved_ledger_url()).history()
    assert (record.trigger, record.status) == ("schedule", "succeeded")
    assert len(smtp_server.received) == 3


def test_a_restarted_scheduler_runs_missed_ticks_once(folder: Path,
                                                      started: list[BaseScheduler]) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    # A cron firing in each of the last five minutes (and not again for ~55 minutes).
    minutes = ",".join(str((now - timedelta(minutes=i)).minute) for i in range(1, 6))
    (folder / "mqr.yaml").write_text(definition_text(cron=f"{minutes} * * * *",
                                                     grace_minutes=10))
    settings = settings_file(folder, None, send=False)
    first, _ = start(settings, started, paused=True)
    sync_definitions(first, folder, settings_path=settings)
    # The machine goes down before the first of those ticks: the stored next run time is
    # where the scheduler left it, now five ticks in the past.
    first.modify_job("mqr", next_run_time=now - timedelta(minutes=5, seconds=30))
    first.shutdown()

    back, events = start(settings, started)
    events.wait(executed=1)
    time.sleep(0.5)  # room for any further (uncoalesced) runs to show up

    assert (len(events.executed), len(events.missed)) == (1, 0)
    assert back.get_job("mqr").next_run_time > datetime.now(UTC)
    assert [r.trigger for r in Ledger(load_settings(settings).resolved_ledger_url())
            .history()] == ["schedule"]


def test_a_fire_time_missed_beyond_grace_is_skipped(folder: Path,
                                                    started: list[BaseScheduler]) -> None:
    (folder / "mqr.yaml").write_text(definition_text(cron="0 0 1 1 *", grace_minutes=1))
    settings = settings_file(folder, None, send=False)
    first, _ = start(settings, started, paused=True)
    sync_definitions(first, folder, settings_path=settings)
    first.modify_job("mqr", next_run_time=datetime.now(UTC) - timedelta(minutes=10))
    first.shutdown()

    _, events = start(settings, started)
    events.wait(missed=1)

    assert events.executed == []
    assert Ledger(load_settings(settings).resolved_ledger_url()).history() == []


def test_a_held_scheduled_run_books_a_retry_that_delivers_when_data_arrives(
        folder: Path, started: list[BaseScheduler], smtp_server: SmtpServer) -> None:
    period = current_period()
    write_rows(folder / "tickets.csv", period, 1)
    settings = settings_file(folder, smtp_server)
    scheduler, events = start(settings, started, paused=True)
    sync_definitions(scheduler, folder, settings_path=settings)
    scheduler.modify_job("mqr", next_run_time=datetime.now(UTC))
    scheduler.resume()
    events.wait(executed=1)

    held = events.executed[0].retval
    assert held.status == "held"
    retry = scheduler.get_job(f"mqr:retry:{period.key}")
    assert retry is not None and retry.next_run_time == held.next_retry_at
    assert [m.rcpt_tos for m in smtp_server.received] == [(OWNER,)]

    write_rows(folder / "tickets.csv", period, 12)
    scheduler.modify_job(retry.id, next_run_time=datetime.now(UTC))
    events.wait(executed=2)

    assert events.executed[1].retval.status == "succeeded"
    assert scheduler.get_job(retry.id) is None  # a one-off job
    history = Ledger(load_settings(settings).resolved_ledger_url()).history()
    assert [(r.trigger, r.status) for r in history] == [("retry", "succeeded"),
                                                         ("schedule", "held")]
    assert len(smtp_server.received) == 1 + 3


def test_the_daemon_picks_up_new_definitions_and_stops_on_request(
        folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="reportgen")
    settings = settings_file(folder, None, send=False)
    stop = threading.Event()
    seen: list[BaseScheduler] = []
    daemon = threading.Thread(target=run_daemon, args=(folder, settings),
                              kwargs={"stop_event": stop, "sync_seconds": 0.1,
                                      "on_started": seen.append})
    daemon.start()
    try:
        deadline = time.monotonic() + 15
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
        (folder / "qbr.yaml").write_text(definition_text("qbr"))
        while seen[0].get_job("qbr") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen[0].get_job("qbr") is not None
    finally:
        stop.set()
        daemon.join(15)
    assert not daemon.is_alive() and not seen[0].running
    assert "job mqr: next run 20" in caplog.text and "scheduler stopped" in caplog.text


DAEMON = textwrap.dedent("""
    import faulthandler, logging, signal, sys, threading
    from pathlib import Path
    from reportgen.executors.daemon import run_daemon, stop_on_signals

    faulthandler.register(signal.SIGUSR2, all_threads=True)  # where it is, if it hangs
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    stop = threading.Event()
    stop_on_signals(stop)
    run_daemon(Path(sys.argv[1]), Path(sys.argv[2]), stop_event=stop)
""")


def daemon_command(tmp_path: Path, script: str) -> tuple[list[str], dict[str, str]]:
    """``script`` run on an empty definitions folder (loading definitions is covered above;
    keep it quick) and test settings, with this checkout importable."""
    empty = tmp_path / "definitions"
    empty.mkdir()
    settings = settings_file(tmp_path, None, send=False)
    repo = Path(reportgen.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(repo)])}
    return [sys.executable, "-c", script, str(empty), str(settings)], env


def test_sigterm_shuts_the_daemon_down_cleanly(tmp_path: Path) -> None:
    command, env = daemon_command(tmp_path, DAEMON)
    child = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    lines = []
    assert child.stderr is not None
    for line in child.stderr:
        lines.append(line)
        if "scheduler started" in line:
            break
    child.send_signal(signal.SIGTERM)
    try:
        _, rest = child.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGUSR2)  # every thread's stack, then give up
        time.sleep(1)
        child.kill()
        _, rest = child.communicate()
        pytest.fail("the daemon did not stop within 20 s of SIGTERM:\n" + "".join(lines) + rest)

    assert child.returncode == 0, "".join(lines) + rest
    assert "scheduler stopped" in rest


SIGNAL_ELSEWHERE = textwrap.dedent("""
    import signal, sys, threading, time
    from pathlib import Path
    from reportgen.executors.daemon import run_daemon, stop_on_signals

    stop = threading.Event()
    stop_on_signals(stop)

    def hit():  # once the main thread is waiting, SIGTERM lands on this other thread
        time.sleep(1)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    def kick(scheduler):
        threading.Thread(target=hit).start()

    run_daemon(Path(sys.argv[1]), Path(sys.argv[2]), stop_event=stop, sync_seconds=120,
               on_started=kick)
    print("stopped")
""")


def test_a_sigterm_taken_by_another_thread_stops_the_daemon_before_its_next_sync(
        tmp_path: Path) -> None:
    command, env = daemon_command(tmp_path, SIGNAL_ELSEWHERE)
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=45)
    assert done.returncode == 0 and "stopped" in done.stdout, done.stderr
    # the sync interval is 120 s: stopping well before it means the handler ran at once
    assert time.monotonic() - started < 30


def test_a_signal_arriving_while_the_main_thread_holds_the_event_lock_still_stops() -> None:
    """The race that hung a daemon: SIGTERM lands inside ``Event.wait`` with its lock held."""
    stop = threading.Event()
    previous = signal.getsignal(signal.SIGUSR1)
    try:
        stop_on_signals(stop, (signal.SIGUSR1,))
        with stop._cond:  # where Event.wait() is between taking its lock and sleeping
            os.kill(os.getpid(), signal.SIGUSR1)  # the handler runs here, in this thread
            assert not stop.is_set()
        assert stop.wait(5)
    finally:
        signal.signal(signal.SIGUSR1, previous)


# ---------- definitions that must not stop the daemon ----------

BAD_OWNER = "bad-owner@example.com"

#: ~300 bytes that expand to 9**9 (387 million) strings when every alias is followed.
BILLION_LAUGHS = (
    f"owner: {BAD_OWNER}\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
              for prev, name in zip("abcdefgh", "bcdefghi", strict=True)))


def write_bad_definitions(folder: Path) -> tuple[Path, Path]:
    """A definition with a timezone that does not exist, and a billion-laughs file."""
    bad_zone = folder / "bad_zone.yaml"
    bad_zone.write_text(definition_text("badzone", extra={
        "owner": BAD_OWNER,
        "schedule": {"cron": "* * * * *", "timezone": "Mars/Olympus"}}), encoding="utf-8")
    laughs = folder / "laughs.yaml"
    laughs.write_text(BILLION_LAUGHS, encoding="utf-8")
    return bad_zone, laughs


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_bad_definitions_are_reported_once_while_the_good_one_fires_and_delivers(
        folder: Path, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="reportgen.executors.scheduler")
    bad_zone, laughs = write_bad_definitions(folder)
    settings = settings_file(folder, smtp_server)
    stop = threading.Event()
    seen: list[BaseScheduler] = []
    crashed: list[BaseException] = []

    def fire_now(scheduler: BaseScheduler) -> None:
        seen.append(scheduler)
        scheduler.modify_job("mqr", next_run_time=datetime.now(UTC))

    def daemon_main() -> None:
        try:
            run_daemon(folder, settings, stop_event=stop, sync_seconds=0.05,
                       on_started=fire_now)
        except BaseException as exc:  # the test reports it instead of a silent thread death
            crashed.append(exc)

    def still_invalid(path: Path) -> int:
        return sum(1 for r in caplog.records
                   if r.levelno == logging.DEBUG and r.getMessage() == f"{path} is still invalid")

    started_at = time.monotonic()
    daemon = threading.Thread(target=daemon_main)
    daemon.start()
    try:
        deadline = started_at + 30
        while time.monotonic() < deadline and not crashed and not (
                len(smtp_server.received) >= 4
                and min(still_invalid(bad_zone), still_invalid(laughs)) >= 5):
            time.sleep(0.05)
        # the report jobs (the daemon's own deliver_by check is not one)
        jobs = [job.id for job in seen[0].get_jobs()
                if not job.id.startswith(DEADLINE_JOB_PREFIX)] if seen else []
    finally:
        stop.set()
        daemon.join(20)
    assert crashed == [] and not daemon.is_alive()
    # loading the bomb is refused at once, not after minutes of expansion
    assert time.monotonic() - started_at < 20

    assert jobs == ["mqr"]
    (record,) = Ledger(load_settings(settings).resolved_ledger_url()).history()
    assert (record.report_id, record.status) == ("mqr", "succeeded")
    reports = [m for m in smtp_server.received if BAD_OWNER not in m.rcpt_tos]
    assert sorted(r for m in reports for r in m.rcpt_tos) == [
        "auditor@example.com", "director@example.com", "manager@example.com"]

    # several re-reads of the folder happened, yet each bad file was reported once
    assert still_invalid(bad_zone) >= 5 and still_invalid(laughs) >= 5
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    zone_errors = [e for e in errors if str(bad_zone) in e]
    laugh_errors = [e for e in errors if str(laughs) in e]
    assert len(zone_errors) == 1 and len(laugh_errors) == 1, errors
    assert f"{bad_zone}:{line_of(bad_zone, 'Mars/Olympus')}:" in zone_errors[0]
    assert "unknown timezone 'Mars/Olympus'" in zone_errors[0]
    assert f"{laughs}:" in laugh_errors[0] and "expands to more than" in laugh_errors[0]

    # the owner named in the invalid definition is told once; the bomb's owner cannot be read
    (notice,) = [m for m in smtp_server.received if BAD_OWNER in m.rcpt_tos]
    assert notice.rcpt_tos == (BAD_OWNER,)
    assert "bad_zone.yaml" in notice.message["Subject"]
    body = notice.message.get_content()
    assert f"{bad_zone}:{line_of(bad_zone, 'Mars/Olympus')}:" in body and "Mars/Olympus" in body


def test_schedule_list_shows_invalid_definitions_with_their_location(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from reportgen.cli import main

    bad_zone, laughs = write_bad_definitions(folder)
    (folder / "never.yaml").write_text(definition_text("never", cron="0 7 31 2 *"))
    settings = settings_file(folder, None, send=False)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        status = main(["schedule", str(folder), "--list", "--settings", str(settings)])
    finally:
        root.handlers[:], root.level = handlers, level

    out = capsys.readouterr().out
    assert status == 0
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "next 20" in rows["mqr"]
    assert "invalid" in rows["bad_zone"] and "invalid" in rows["laughs"]
    assert f"{bad_zone}:{line_of(bad_zone, 'Mars/Olympus')}:" in out
    assert f"{folder / 'never.yaml'}:{line_of(folder / 'never.yaml', '0 7 31 2')}:" in out
    assert "never fires" in out
    assert f"{laughs}:" in out and "expands to more than" in out
