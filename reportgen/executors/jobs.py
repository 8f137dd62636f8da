"""The body of a scheduled job, run in the daemon or on a worker: one report through the
run core, its events in the log, its outcome for the scheduler (a held run books a retry)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reportgen import secrets
from reportgen.errors import DefinitionError, ReportgenError
from reportgen.executors.placement import InlineExecutor
from reportgen.ledger.records import RunStatus
from reportgen.ledger.store import RunLocked
from reportgen.run.core import RunRequest
from reportgen.run.events import RunEvent, SegmentFinished, StageFinished
from reportgen.settings import Settings

logger = logging.getLogger("reportgen.executors.scheduler")


@dataclass(frozen=True)
class JobOutcome:
    """What a scheduled job returns; the scheduler reads it to book a retry of a held run."""

    report_id: str
    period: str
    run_id: int
    status: RunStatus
    next_retry_at: datetime | None
    definition_path: str
    settings_path: str | None


def scheduled_request(definition_path: str, settings: Settings, period_key: str | None,
                      trigger: str | None,
                      options: Mapping[str, Any] | None = None) -> RunRequest:
    """A scheduled run: the last complete period unless it already succeeded, or
    ``period_key`` on a retry; sent when the settings say so.  ``options`` (``send``,
    ``segment``, ``requested_by``) make it as a run asked for by hand was asked."""
    options = options or {}
    return RunRequest(Path(definition_path), period_key,
                      trigger or ("retry" if period_key is not None else "schedule"),  # type: ignore[arg-type]
                      send=bool(options.get("send", settings.send)),
                      skip_done=period_key is None, segment=options.get("segment"),
                      requested_by=options.get("requested_by"))


def run_job(definition_path: str, settings_path: str | None, settings: Settings,
            period_key: str | None = None, *, trigger: str | None = None,
            raise_locked: bool = False,
            options: Mapping[str, Any] | None = None) -> JobOutcome | None:
    """Run one scheduled report here, through the run core: the last complete period, or
    ``period_key`` on a retry.  Problems are logged, never raised: the scheduler must keep
    running the other reports (``raise_locked``: a worker retries a locked run)."""
    request = scheduled_request(definition_path, settings, period_key, trigger, options)
    try:
        outcome = InlineExecutor(settings).place(request, sink=_log_event).outcome
        assert outcome is not None
    except RunLocked as exc:
        if raise_locked:
            raise
        logger.warning("%s", exc)
        return None
    except DefinitionError as exc:
        logger.error("scheduled run of %s skipped: %s", definition_path, secrets.redact(str(exc)))
        return None
    except ReportgenError as exc:  # a refused fan-out mapping: recorded, logged, not raised
        logger.error("run of %s refused: %s", definition_path, secrets.redact(str(exc)))
        return None
    if outcome.record is None:
        logger.info("%s; scheduled run skipped", outcome.skipped)
        return None
    record = outcome.record
    return JobOutcome(record.report_id, record.period, record.id, record.status,
                      record.next_retry_at, definition_path, settings_path)


def _log_event(event: RunEvent) -> None:
    """The daemon shows a run's events in its log."""
    if isinstance(event, StageFinished):
        logger.info("%s took %.1f s", event.stage, event.seconds)
    elif isinstance(event, SegmentFinished):
        logger.info("segment %s: %s (%d%s)", event.segment, event.status, event.done,
                    f" of {event.total}" if event.total else "")
