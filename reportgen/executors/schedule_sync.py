"""The schedule kept in step with the definitions: each valid definition's cron job added,
changed or removed, and the schedule listed for ``schedule --list``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from reportgen import secrets
from reportgen.definition.folder import definition_files
from reportgen.errors import ReportgenError
from reportgen.executors.invalid import _invalid_reported, _report_invalid
from reportgen.executors.scheduler import JOB_FUNCTION, RETRY_MARK
from reportgen.period import Period
from reportgen.run.pipeline import LoadFn, resolve_loader
from reportgen.settings import load_settings

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition


logger = logging.getLogger("reportgen.executors.scheduler")  # the daemon's one log channel


@dataclass(frozen=True)
class ScheduleRow:
    """One line of ``schedule --list``."""

    report_id: str
    cron: str
    timezone: str
    next_run_local: datetime | None
    next_period: str | None
    path: str = ""
    error: str | None = None  # set for a definition that cannot be scheduled, and why


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def cron_trigger(cron: str, timezone: str) -> CronTrigger:
    return CronTrigger.from_crontab(cron, timezone=timezone)


def sync_definitions(scheduler: BaseScheduler, directory: Path, *,
                     settings_path: Path | None = None,
                     load: LoadFn | None = None) -> SyncResult:
    """Make the scheduler's jobs match the definitions in ``directory``.

    New or changed definitions (by file hash) are added or replaced, jobs whose file is
    gone are removed with their pending retries.  Each file is loaded and scheduled on
    its own: an invalid one (whatever is wrong with it) is reported once with its
    file:line problems and skipped, keeping its previous job until it is fixed, while the
    others keep their schedules.
    """
    load = load or resolve_loader(_pipeline_module(settings_path))
    result = SyncResult()
    settings_arg = str(settings_path.resolve()) if settings_path else None
    present: set[str] = set()
    claimed: dict[str, str] = {}
    newly_invalid: list[str] = []
    for path in definition_files(directory, settings_path):
        present.add(str(path))
        try:
            loaded = load(path)
        # A loader (ours, or a plugin's) must never take the daemon down with it.
        except Exception as exc:
            if _report_invalid(path, _describe(exc), settings_path):
                newly_invalid.append(str(path))
            result.invalid.append(str(path))
            continue
        definition = loaded.definition
        if definition.id in claimed:
            problem = (f"{path}: report id '{definition.id}' is already used by "
                       f"{claimed[definition.id]}; file skipped")
            if _report_invalid(path, problem, settings_path):
                newly_invalid.append(str(path))
            result.invalid.append(str(path))
            continue
        claimed[definition.id] = str(path)
        try:
            outcome = _schedule_one(scheduler, loaded, path, settings_arg)
        except Exception as exc:  # e.g. a definition from a loader that skips validation
            if _report_invalid(path, f"{path}: cannot be scheduled: {_describe(exc)}",
                               settings_path):
                newly_invalid.append(str(path))
            result.invalid.append(str(path))
            continue
        _invalid_reported.pop(str(path), None)
        if outcome is not None:
            getattr(result, outcome).append(definition.id)
    base = str(directory.resolve())
    for job in scheduler.get_jobs():
        job_path = str(job.args[0]) if job.args else ""
        report_id = job.id.split(RETRY_MARK)[0]
        from_here = str(Path(job_path).parent) == base
        if from_here and job_path not in present and report_id not in claimed:
            scheduler.remove_job(job.id)
            result.removed.append(job.id)
    for gone in [p for p in _invalid_reported if str(Path(p).parent) == base
                 and p not in present]:
        del _invalid_reported[gone]
    if result.changed or newly_invalid:
        logger.info("definitions synced: added %s, updated %s, removed %s, invalid %s",
                    result.added, result.updated, result.removed, result.invalid)
    return result


def _schedule_one(scheduler: BaseScheduler, loaded: LoadedDefinition, path: Path,
                  settings_arg: str | None) -> str | None:
    """Add, replace or remove the job of one valid definition; the SyncResult list it
    belongs to ('added', 'updated', 'removed', 'unchanged'), or None."""
    definition = loaded.definition
    schedule = definition.schedule
    existing = scheduler.get_job(definition.id)
    if schedule is None or not schedule.enabled:
        if existing is not None:
            scheduler.remove_job(definition.id)
            return "removed"
        return None
    args = [str(path), settings_arg]
    name = f"{definition.id} {loaded.hash}"
    if existing is not None and existing.name == name and list(existing.args) == args:
        return "unchanged"
    timezone = schedule.timezone or definition.period.timezone
    scheduler.add_job(JOB_FUNCTION, cron_trigger(schedule.cron, timezone), args=args,
                      id=definition.id, name=name, replace_existing=True,
                      misfire_grace_time=max(1, int(schedule.grace_minutes * 60)),
                      coalesce=True, max_instances=1)
    return "updated" if existing is not None else "added"


def _describe(exc: BaseException) -> str:
    """An error's located message; unexpected errors also say what they were."""
    if isinstance(exc, ReportgenError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _pipeline_module(settings_path: Path | None) -> str | None:
    return load_settings(settings_path).pipeline if settings_path else None


def describe_schedule(directory: Path, now: datetime, *, settings_path: Path | None = None,
                      load: LoadFn | None = None) -> list[ScheduleRow]:
    """Each scheduled definition's next run (local to its cron zone) and the period it makes.

    A definition that cannot be scheduled gets a row with its located ``error`` instead.
    """
    load = load or resolve_loader(_pipeline_module(settings_path))
    rows: list[ScheduleRow] = []
    for path in definition_files(directory, settings_path):
        try:
            rows.extend(_describe_one(load(path), path, now))
        except Exception as exc:  # one bad file must not hide the others
            rows.append(ScheduleRow(path.stem, "", "", None, None, str(path),
                                    error=secrets.redact(_describe(exc))))
    return rows


def _describe_one(loaded: LoadedDefinition, path: Path, now: datetime) -> list[ScheduleRow]:
    definition = loaded.definition
    if definition.schedule is None:
        return []
    timezone = definition.schedule.timezone or definition.period.timezone
    next_run: datetime | None = None
    next_period: str | None = None
    if definition.schedule.enabled:
        next_run = cron_trigger(definition.schedule.cron, timezone).get_next_fire_time(None, now)
    if next_run is not None:
        next_period = Period.last_complete(next_run, definition.period.grain,
                                           definition.period.timezone).key
    return [ScheduleRow(definition.id, definition.schedule.cron, timezone, next_run,
                        next_period, str(path))]
