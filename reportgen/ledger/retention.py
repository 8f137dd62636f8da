"""Retention: old runs' files are deleted, and the ledger records what was deleted and when.

Every run writes its own folder and nothing is ever overwritten, so without a limit the
reports folder only grows.  The ``retention`` setting bounds it.  A run keeps its files
while it is among the ``keep_runs`` newest runs of its report or younger than ``keep_days``
(with both set, a run is pruned only when it is beyond both).  Two kinds of run always
keep their files, whatever their age: the latest run of each period that reached a
recipient (what readers have in their inboxes can always be downloaded and resent), and
a run awaiting approval (an approver still has to see it).  A fan-out and its segment runs
are kept or pruned together.

Pruning deletes the files and their run folder, never the ledger rows: each artifact row
gets ``pruned_at`` and the rule that pruned it, so history, the web page, downloads and
resends say "pruned on ..." instead of failing on a missing file.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from reportgen import secrets
from reportgen.ledger.records import ArtifactRecord, RunRecord
from reportgen.ledger.store import Ledger
from reportgen.settings import RetentionSettings, Settings, size_bytes

logger = logging.getLogger(__name__)

#: runs whose files are never pruned, whatever their age
KEPT_STATUSES = frozenset({"running", "pending_approval"})
#: the daemon prunes this often (and after every run)
PRUNE_EVERY = timedelta(days=1)
#: where a run keeps what it computed for a later regeneration, one folder per report
#: (``<out>/.reuse/<report id>/<key>.pickle``, see ``reportgen.run.reuse``)
REUSE_FOLDER = ".reuse"
#: kept computations per report when no retention is set: a cache must not only grow
REUSE_KEPT = 10


@dataclass(frozen=True)
class PrunedRun:
    """One run (with its segment runs) whose files were deleted."""

    run_id: int
    report_id: str
    period: str
    files: tuple[str, ...]
    bytes: int


def prune_runs(ledger: Ledger, retention: RetentionSettings, out_dir: Path) -> list[PrunedRun]:
    """Delete the files of runs beyond ``retention`` (under ``out_dir`` only) and record it.

    Files outside ``out_dir`` are left alone: the ledger names paths, and a pruning pass
    must never delete anything the reports folder does not hold.
    """
    if not retention.active:
        return []
    now = ledger.now()
    every = ledger.history(children=True)
    protected = _latest_sent(every) | {r.id for r in every if r.status in KEPT_STATUSES}
    children: dict[int, list[RunRecord]] = defaultdict(list)
    by_report: dict[str, list[RunRecord]] = defaultdict(list)
    for run in every:  # newest first
        if run.parent_id is not None:
            children[run.parent_id].append(run)
        else:
            by_report[run.report_id].append(run)
    root = out_dir.resolve()
    pruned: list[PrunedRun] = []
    for runs in by_report.values():
        with_files = [r for r in runs if _artifacts([r, *children[r.id]])]
        for index, run in enumerate(with_files):
            family = [run, *children[run.id]]
            if not _expired(index, run.started_at, retention, now):
                continue
            if any(member.id in protected for member in family):
                continue
            on_disk = [a for a in _artifacts(family) if a.pruned_at is None]
            if not on_disk:
                continue
            deleted = _delete(on_disk, root)
            if deleted is None:
                continue
            for member in family:
                ledger.mark_pruned(member.id, retention.rule)
            pruned.append(PrunedRun(run.id, run.report_id, run.period,
                                    tuple(a.path for a in on_disk), deleted))
            logger.info("run #%d (%s %s): %d file(s), %d bytes pruned (%s)", run.id,
                        run.report_id, run.period, len(on_disk), deleted, retention.rule)
    return pruned


def prune_after_run(settings: Settings, ledger: Ledger,
                    out_dir: Path | None = None) -> list[PrunedRun]:
    """Prune as the settings say (under ``out_dir``, default the settings' ``out_dir``),
    logging rather than raising: a run that succeeded stays a success when its clean-up
    fails."""
    folder = out_dir or settings.resolved_out_dir()
    try:
        prune_reuse(folder, settings.retention, ledger.now())
        copies = settings.resolved_csv_cache(folder)
        if copies is not None and copies.is_dir():  # a cache too: bounded by its size
            from reportgen.data import csv_cache

            csv_cache.prune(copies, size_bytes(settings.csv_cache.max_size))
        return prune_runs(ledger, settings.retention, folder)
    except Exception as exc:  # logged; the next run or the daily pass tries again
        logger.error("pruning old runs failed: %s", secrets.redact(f"{type(exc).__name__}: "
                                                                    f"{exc}"))
        return []


def prune_reuse(out_dir: Path, retention: RetentionSettings, now: datetime) -> int:
    """Delete kept computations beyond ``retention`` (the ``keep_runs`` most recently used
    of each report, or those used within ``keep_days``; with neither set, the ``REUSE_KEPT``
    most recently used).  They are a cache: a regeneration without one reads the data
    again.  Returns how many were deleted."""
    root = out_dir / REUSE_FOLDER
    if not root.is_dir():
        return 0
    rule = retention if retention.active else RetentionSettings(keep_runs=REUSE_KEPT)
    deleted = 0
    for report in (p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        entries = sorted(((p.stat().st_mtime, p) for p in report.glob("*.pickle")),
                         reverse=True)  # most recently used first
        for index, (used, path) in enumerate(entries):
            # the runs' rule, with the last use standing for the start
            if not _expired(index, datetime.fromtimestamp(used, now.tzinfo), rule, now):
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                deleted += 1
    if deleted:
        logger.info("%d kept computation(s) for regeneration pruned", deleted)
    return deleted


def prune_job(settings_path: str | None) -> None:
    """The daemon's daily pass (a module-level function, so the job store can name it)."""
    from reportgen.settings import load_settings

    settings = load_settings(Path(settings_path) if settings_path else None)
    ledger = Ledger(settings.resolved_ledger_url(), out_dir=settings.resolved_out_dir())
    try:
        prune_after_run(settings, ledger)
    finally:
        ledger.close()


def _artifacts(family: Sequence[RunRecord]) -> list[ArtifactRecord]:
    return [a for member in family for a in member.artifacts]


def _expired(index: int, started: datetime, retention: RetentionSettings,
             now: datetime) -> bool:
    beyond_count = retention.keep_runs is None or index >= retention.keep_runs
    beyond_age = (retention.keep_days is None
                  or started < now - timedelta(days=retention.keep_days))
    return beyond_count and beyond_age


def _latest_sent(runs: Iterable[RunRecord]) -> set[int]:
    """The newest run of each (report, period) with a delivery that reached someone."""
    latest: dict[tuple[str, str], int] = {}
    for run in runs:
        if any(d.status == "sent" and d.purpose == "delivery" for d in run.deliveries):
            key = (run.report_id, run.period)
            latest[key] = max(latest.get(key, 0), run.id)
    return set(latest.values())


def _delete(files: Sequence[ArtifactRecord], root: Path) -> int | None:
    """Delete ``files`` and their emptied run folders; the bytes freed, or None when a file
    lies outside ``root`` (then nothing of this run is touched)."""
    paths = [Path(a.path) for a in files]
    if not all(p.resolve().is_relative_to(root) for p in paths):
        logger.warning("not pruning %s: outside the reports folder %s", paths[0], root)
        return None
    freed = 0
    for path in paths:
        try:
            freed += path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            pass  # already gone (deleted by hand): recorded as pruned all the same
    for folder in {p.parent for p in paths}:
        if folder.name.startswith("run-") and folder.resolve() != root:
            with contextlib.suppress(OSError):  # not empty: something else lives there
                folder.rmdir()
    return freed
