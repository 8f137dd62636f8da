"""Retention: old runs' files are pruned by count or age, never the latest sent run of a
period nor a run awaiting approval; the ledger records what was pruned and when, and a
resend of a pruned run says so.  The clock is the only thing faked."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from support.paths import REPO
from support.smtp_server import smtp_settings
from support.standin_pipeline import definition_text, settings_file, write_rows

from reportgen.cli import main
from reportgen.errors import DeliveryError
from reportgen.executors.daemon import add_retention_job
from reportgen.executors.scheduler import RETENTION_JOB_FUNCTION, run_scheduled_job
from reportgen.ledger.retention import prune_job, prune_runs
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.report.model.report_model import Artifact
from reportgen.run.runner import resend_run
from reportgen.settings import RetentionSettings

START = datetime(2026, 1, 2, 7, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _run(ledger: Ledger, out: Path, report: str, period: str, status: str = "succeeded", *,
         sent: bool = False) -> tuple[int, Path]:
    """A run with one file in its own folder, as the runner leaves it."""
    run_id = ledger.start_run(report, period, trigger="schedule", definition_hash="h",
                              code_version="t")
    path = out / report / period / f"run-{run_id}" / f"{report}.pdf"
    path.parent.mkdir(parents=True)
    data = f"%PDF-1.7 {report} {period} run {run_id}\n".encode()
    path.write_bytes(data)
    ledger.record_artifacts(run_id, [Artifact("pdf", str(path), len(data),
                                              hashlib.sha256(data).hexdigest())])
    if sent:
        row = ledger.begin_delivery(run_id, report, period, "email", "director@example.com")
        ledger.mark_sent(row.id, f"<{run_id}@example.com>")
    if status == "succeeded":
        ledger.record_summary(run_id, {"mail": {
            "report_id": report, "title": "MQR", "organisation": "Acme", "period_key": period,
            "period_label": period, "date_range": period}, "email": {"to": ["d@example.com"]}})
    ledger.finish_run(run_id, status)  # type: ignore[arg-type]
    return run_id, path


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(tmp_path: Path, clock: Clock):
    store = Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}", now=clock)
    yield store
    store.close()


def test_keep_runs_prunes_older_runs_but_never_the_latest_sent_or_one_awaiting_approval(
        tmp_path, ledger, clock):
    out = tmp_path / "out"
    runs = {}
    # one run a month; August is the latest sent run of its period, October awaits approval
    for month, status, sent in [("2026-06", "succeeded", True), ("2026-07", "succeeded", True),
                                ("2026-08", "succeeded", True), ("2026-08", "succeeded", False),
                                ("2026-09", "failed", False),
                                ("2026-10", "pending_approval", False),
                                ("2026-11", "succeeded", False), ("2026-12", "succeeded", False)]:
        clock.now += timedelta(days=30)
        runs[len(runs)] = _run(ledger, out, "mqr", month, status, sent=sent)
    other, other_path = _run(ledger, out, "qbr", "2026-12")  # another report counts apart
    clock.now += timedelta(hours=1)

    pruned = prune_runs(ledger, RetentionSettings(keep_runs=2), out)

    # the two newest keep theirs; so do June, July and August's sending run (each the
    # latest sent run of its period) and October (awaiting approval)
    gone = {runs[3][0], runs[4][0]}
    assert {p.run_id for p in pruned} == gone
    for run_id, path in runs.values():
        assert path.exists() == (run_id not in gone), run_id
        assert path.parent.exists() == (run_id not in gone)  # the run's folder goes too
        record = ledger.get_run(run_id)
        (artifact,) = record.artifacts
        if run_id in gone:
            assert artifact.pruned_at == clock.now and artifact.pruned_by == "keep_runs 2"
        else:
            assert artifact.pruned_at is None
    assert other_path.exists() and ledger.get_run(other).artifacts[0].pruned_at is None
    assert sum(p.bytes for p in pruned) > 0

    # a second pass finds nothing new to prune and leaves the record as it was
    clock.now += timedelta(days=1)
    assert prune_runs(ledger, RetentionSettings(keep_runs=2), out) == []
    assert ledger.get_run(runs[3][0]).artifacts[0].pruned_at == clock.now - timedelta(days=1)


def test_keep_days_prunes_by_age_and_both_limits_keep_what_either_keeps(tmp_path, ledger, clock):
    out = tmp_path / "out"
    old, old_path = _run(ledger, out, "mqr", "2026-01")
    clock.now += timedelta(days=10)
    middle, middle_path = _run(ledger, out, "mqr", "2026-02")
    clock.now += timedelta(days=10)
    new, new_path = _run(ledger, out, "mqr", "2026-03")

    # the oldest is 20 days old, the middle one 10: a count that keeps all three wins over
    # the age, and the age keeps the middle one however few runs are counted
    assert prune_runs(ledger, RetentionSettings(keep_days=15, keep_runs=3), out) == []
    assert [p.run_id for p in prune_runs(ledger, RetentionSettings(keep_days=15, keep_runs=1),
                                         out)] == [old]
    assert not old_path.exists() and middle_path.exists() and new_path.exists()
    clock.now += timedelta(days=6)  # the middle one is now 16 days old
    assert [p.run_id for p in prune_runs(ledger, RetentionSettings(keep_days=15), out)] == [
        middle]
    assert ledger.get_run(middle).artifacts[0].pruned_by == "keep_days 15"
    assert new_path.exists()


def test_files_outside_the_reports_folder_are_never_deleted(tmp_path, ledger, clock):
    _run(ledger, tmp_path / "elsewhere", "mqr", "2026-01")
    clock.now += timedelta(days=1)
    _run(ledger, tmp_path / "out", "mqr", "2026-02")
    assert prune_runs(ledger, RetentionSettings(keep_runs=1), tmp_path / "out") == []
    assert (tmp_path / "elsewhere" / "mqr" / "2026-01").exists()


def test_a_resend_of_a_pruned_run_says_it_was_pruned(tmp_path, ledger, clock, smtp_server,
                                                     capsys):
    out = tmp_path / "out"
    old, _ = _run(ledger, out, "mqr", "2026-01")
    clock.now += timedelta(days=1)
    _run(ledger, out, "mqr", "2026-02")
    prune_runs(ledger, RetentionSettings(keep_runs=1), out)
    with pytest.raises(DeliveryError, match=r"pruned on Jan 3, 2026, 7:00 AM UTC \(keep_runs 1\)"):
        resend_run(old, "cfo@example.com", ledger=ledger, smtp=smtp_settings(smtp_server))
    assert smtp_server.received == []
    # from the command line: one line saying so, exit 1 like any refused resend, no traceback
    settings = settings_file(tmp_path, smtp_server)
    assert main(["resend", str(old), "--to", "cfo@example.com", "--settings", str(settings)]
                ) == 1
    err = capsys.readouterr().err
    assert f"run #{old}" in err and "pruned on" in err and "Traceback" not in err
    assert smtp_server.received == []


def _scheduled_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "defs"
    folder.mkdir()
    definition = folder / "mqr.yaml"
    definition.write_text(definition_text(), encoding="utf-8")
    write_rows(folder / "tickets.csv", Period.parse("2026-09", "month", "Europe/Berlin"), 12)
    return definition


def _files(tmp_path: Path, run_id: int) -> list:
    ledger = Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    try:
        return list(ledger.get_run(run_id).artifacts)
    finally:
        ledger.close()


def test_scheduled_runs_prune_after_themselves(tmp_path):
    definition = _scheduled_folder(tmp_path)
    settings = settings_file(tmp_path, None, send=False, retention={"keep_runs": 1})
    first = run_scheduled_job(str(definition), str(settings), "2026-09")
    second = run_scheduled_job(str(definition), str(settings), "2026-09")
    gone, kept = _files(tmp_path, first.run_id), _files(tmp_path, second.run_id)
    assert gone and all(a.pruned_at and not Path(a.path).exists() for a in gone)
    assert kept and all(a.pruned_at is None and Path(a.path).exists() for a in kept)


def test_the_daemon_prunes_once_a_day(tmp_path):
    definition = _scheduled_folder(tmp_path)
    settings = settings_file(tmp_path, None, send=False)  # no retention yet: nothing pruned
    first = run_scheduled_job(str(definition), str(settings), "2026-09")
    run_scheduled_job(str(definition), str(settings), "2026-09")
    assert all(a.pruned_at is None for a in _files(tmp_path, first.run_id))

    settings = settings_file(tmp_path, None, send=False, retention={"keep_days": 1,
                                                                    "keep_runs": 1})
    scheduler = BackgroundScheduler()
    add_retention_job(scheduler, settings)
    (job,) = scheduler.get_jobs()
    assert job.func_ref == RETENTION_JOB_FUNCTION and job.trigger.interval == timedelta(days=1)
    prune_job(**job.kwargs)  # both runs are minutes old: younger than a day, nothing goes
    assert all(a.pruned_at is None for a in _files(tmp_path, first.run_id))

    settings_file(tmp_path, None, send=False, retention={"keep_runs": 1})
    prune_job(**job.kwargs)
    assert all(a.pruned_at and not Path(a.path).exists() for a in _files(tmp_path, first.run_id))


def test_the_readme_retention_and_link_examples_are_valid_settings():
    import re

    import yaml

    from reportgen.settings import Settings

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
    retention = next(b for b in blocks if b.startswith("retention:"))
    web = next(b for b in blocks if b.startswith("web:"))
    settings = Settings.model_validate({**yaml.safe_load(retention), **yaml.safe_load(web)})
    assert settings.retention.rule == "keep_runs 12, keep_days 90"
    assert settings.web.public_url == "https://reports.example.com"


def _kept(out: Path, report: str, count: int, start: datetime) -> list[Path]:
    """``count`` kept computations of ``report``, the first used at ``start``, then one a day."""
    import os

    folder = out / ".reuse" / report
    folder.mkdir(parents=True)
    paths = []
    for i in range(count):
        path = folder / f"key{i:02d}.pickle"
        path.write_bytes(b"x")
        used = (start + timedelta(days=i)).timestamp()
        os.utime(path, (used, used))
        paths.append(path)
    return paths


@pytest.mark.parametrize(("retention", "left"), [
    (RetentionSettings(), 10),                      # none set: the 10 most recently used
    (RetentionSettings(keep_runs=3), 3),
    (RetentionSettings(keep_days=5), 5),            # used in the last 5 days: days 10 to 14
    (RetentionSettings(keep_runs=6, keep_days=5), 6),  # beyond both
])
def test_kept_computations_for_regeneration_are_pruned_as_runs_are(
        tmp_path: Path, retention: RetentionSettings, left: int) -> None:
    from reportgen.ledger.retention import prune_reuse

    out = tmp_path / "out"
    paths = _kept(out, "mqr", 15, START)
    other = _kept(out, "qbr", 2, START + timedelta(days=13))  # counted on their own
    now = START + timedelta(days=14, hours=12)
    assert prune_reuse(out, retention, now) == 15 - left
    assert [p.exists() for p in paths] == [False] * (15 - left) + [True] * left
    assert all(p.exists() for p in other)  # per report


def test_reusing_a_kept_computation_counts_as_using_it(tmp_path: Path) -> None:
    """A regeneration that reads a kept computation makes it the most recently used, so
    a busy report's live computation is not pruned for being old."""
    import os
    import pickle

    from reportgen.ledger.retention import prune_reuse
    from reportgen.run import reuse

    out = tmp_path / "out"
    paths = _kept(out, "mqr", 4, START)
    ingredients = reuse.Ingredients(metrics={}, findings=(), gates=(), input_hashes={},
                                    row_counts={}, quality=(), data_fingerprints={})
    paths[0].write_bytes(pickle.dumps(ingredients))
    os.utime(paths[0], (START.timestamp(), START.timestamp()))
    assert reuse.load(paths[0].parent, "key00") == ingredients
    assert prune_reuse(out, RetentionSettings(keep_runs=1), datetime.now(UTC)) == 3
    assert paths[0].exists() and not any(p.exists() for p in paths[1:])
