"""Where a run is placed: the one decision the command line, the daemon, the web page and
the Celery workers differ in.

Each turns what it was asked into a ``RunRequest`` and hands it to an ``Executor``:

* ``InlineExecutor`` runs it to its end on the calling thread (the command line, a
  scheduled job in the daemon, a Celery task on its worker);
* ``LedgerJobExecutor`` queues it as a ledger job on a worker thread of a long-lived
  process and returns at once (the web page's regenerations);
* ``CeleryExecutor`` puts it on the broker for ``reportgen worker`` processes, which run it
  with an ``InlineExecutor`` (``executor: celery`` in the settings).

Inside a run, the run core places a fan-out's segment renders in its process pool
(``reportgen.render.pool``, started with forkserver).  Everything else about a run (the
ledger, the lock, gates, approval, delivery, retention) is wired once, in
``reportgen.run.core``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from reportgen.run.core import RunOutcome, RunRequest, execute

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition
    from reportgen.executors.job_thread import JobQueue
    from reportgen.ledger.store import Ledger
    from reportgen.run.events import RunEvent, Sink
    from reportgen.settings import Settings

#: a ledger job's period column holds at most this many characters
_JOB_LABEL = 64


@dataclass(frozen=True)
class Placement:
    """Where a request went: its outcome when it ran here, else the job or task to follow."""

    executor: str
    outcome: RunOutcome | None = None
    job_id: int | None = None
    task_id: str | None = None
    #: the run ledger's record of a run put on the broker (kept queued while it is down)
    enqueued_id: int | None = None


class Executor(Protocol):
    """Places a run request; the only thing the ways into reportgen do differently."""

    name: str

    def place(self, request: RunRequest, *, loaded: LoadedDefinition | None = None,
              sink: Sink | None = None) -> Placement: ...


class InlineExecutor:
    """Runs a request to its end here, on the calling thread."""

    name = "inline"

    def __init__(self, settings: Settings, *, ledger: Ledger | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.settings, self.ledger, self.now = settings, ledger, now

    def place(self, request: RunRequest, *, loaded: LoadedDefinition | None = None,
              sink: Sink | None = None) -> Placement:
        outcome = execute(request, self.settings, loaded=loaded, ledger=self.ledger,
                          sink=sink, now=self.now)
        return Placement(self.name, outcome=outcome)


class LedgerJobExecutor:
    """Queues a request as a ledger job, run one at a time on a worker thread of this
    process; the job shows the run's live stage and ends with its run id and status."""

    name = "ledger-job"

    def __init__(self, settings: Settings, queue: JobQueue, *, ledger: Ledger,
                 now: Callable[[], datetime]) -> None:
        self.settings, self.queue, self.ledger, self.now = settings, queue, ledger, now

    def place(self, request: RunRequest, *, loaded: LoadedDefinition | None = None,
              sink: Sink | None = None) -> Placement:
        inline = InlineExecutor(self.settings, ledger=self.ledger, now=self.now)
        report_id = loaded.definition.id if loaded is not None else request.definition.stem

        def work(job_sink: Sink) -> tuple[int, str, str | None]:
            def both(event: RunEvent) -> None:
                job_sink(event)
                if sink is not None:
                    sink(event)

            outcome = inline.place(request, loaded=loaded, sink=both).outcome
            assert outcome is not None and outcome.record is not None
            return outcome.record.id, outcome.record.status, outcome.record.error

        label = (request.period or "last complete period") + (
            f" · {request.segment}" if request.segment else "")
        job = self.queue.submit("regenerate" if not request.send else "run", report_id,
                                label[:_JOB_LABEL], request.requested_by, work)
        return Placement(self.name, job_id=job.id)


class CeleryExecutor:
    """Records a request in the run ledger, then puts it on the broker; a ``reportgen
    worker`` runs it (inline, there).  When the broker is down the request stays queued in
    the ledger and the schedule daemon publishes it later (``executors.durable``)."""

    name = "celery"

    def __init__(self, settings: Settings, settings_path: str | None) -> None:
        self.settings, self.settings_path = settings, settings_path

    def place(self, request: RunRequest, *, loaded: LoadedDefinition | None = None,
              sink: Sink | None = None) -> Placement:
        from reportgen.executors.durable import publish

        report_id = loaded.definition.id if loaded is not None else Path(request.definition).stem
        published = publish(self.settings, self.settings_path, str(request.definition),
                            request.period, request.trigger, report_id)
        return Placement(self.name, task_id=published.task_id,
                         enqueued_id=published.enqueued_id)


def executor_for(settings: Settings, settings_path: str | None) -> Executor:
    """The settings' executor for scheduled runs: Celery workers, or this process."""
    if settings.executor == "celery":
        return CeleryExecutor(settings, settings_path)
    return InlineExecutor(settings)
