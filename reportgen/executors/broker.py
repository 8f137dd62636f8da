"""The broker side of Celery placement: the app's delivery guarantees, and putting a run on
the queue for ``reportgen worker`` processes (``celery_app``).

Celery delivers a task *at least* once: tasks are acknowledged only after they finish
(``acks_late``) and put back when their worker dies (``reject_on_worker_lost``), so a task
may run twice.  The run ledger is what makes that harmless (see ``celery_app``).
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from celery import Celery
from kombu.exceptions import OperationalError

from reportgen.errors import ResourceError

if TYPE_CHECKING:
    from reportgen.settings import Settings

TASK = "reportgen.run"
QUEUE = "reportgen"
#: a task whose worker vanished without a word is handed out again after this long
VISIBILITY_SECONDS = 3600.0
#: how long a task waits before trying again when its report is already running
LOCKED_RETRY_SECONDS = 30
#: a publish tries this often, a second apart, before the broker counts as unreachable
#: (the run stays queued in the ledger and is published again later: ``executors.durable``)
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.5, "interval_step": 0.5,
                        "interval_max": 1.0}


class BrokerUnavailable(ResourceError):
    """The broker could not be reached to publish a run."""

    def __init__(self, where: str, cause: BaseException):
        super().__init__(f"the broker at {where} could not be reached "
                         f"({type(cause).__name__}: {cause})",
                         "start it or correct broker_url in the settings; a scheduled run "
                         "stays queued in the run ledger and is published again when it is "
                         "back")


def make_app(broker_url: str, *, visibility_seconds: float | None = None) -> Celery:
    """A Celery app on ``broker_url`` with the delivery guarantees reportgen relies on (a
    worker registers the task on it: ``celery_app.worker_app``)."""
    app = Celery("reportgen", broker=broker_url, set_as_current=False)
    visibility = visibility_seconds or float(
        os.environ.get("REPORTGEN_BROKER_VISIBILITY_SECONDS", VISIBILITY_SECONDS))
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a busy worker does not sit on tasks others could run
        task_serializer="json", accept_content=["json"], result_serializer="json",
        task_ignore_result=True,
        task_default_queue=QUEUE,
        broker_connection_retry_on_startup=True,
        # A task whose whole worker died (no one left to reject it) waits in Redis's
        # unacked set until a sweep finds it older than the visibility timeout.  Kombu
        # sweeps every interval x throttle seconds (100 s by default); sweeping at a tenth
        # of the timeout (at most every 10 s, one cheap sorted-set read) keeps that wait
        # close to the timeout itself.
        broker_transport_options={"visibility_timeout": visibility,
                                  "unacked_restore_interval": max(1.0, min(10.0,
                                                                           visibility / 10)),
                                  "unacked_restore_throttle": 1},
        worker_hijack_root_logger=False,
        # task events, so a monitor (Flower, `celery events`) sees tasks sent, started, done
        worker_send_task_events=True, task_send_sent_event=True,
    )
    return app


def jitter_seconds(report_id: str, spread: float) -> float:
    """A stable delay in [0, spread) for ``report_id``: reports scheduled for the same minute
    start spread out, each always at the same offset."""
    if spread <= 0:
        return 0.0
    digest = int(hashlib.sha256(report_id.encode()).hexdigest()[:8], 16)
    return (digest / 0xFFFFFFFF) * spread


def enqueue_run(settings: Settings, definition_path: str, settings_path: str | None,
                period_key: str | None = None, *, trigger: str | None = None,
                report_id: str | None = None) -> str:
    """Put a run on the broker for the workers; returns the task id."""
    if not settings.broker_url:
        from reportgen.errors import Problem
        from reportgen.settings import SettingsError

        raise SettingsError("settings", [Problem("broker_url", "executor is celery, so name "
                                                 "the broker, e.g. redis://127.0.0.1:6379/0")])
    app = make_app(settings.broker_url)
    delay = jitter_seconds(report_id or definition_path, settings.schedule_jitter_seconds) \
        if trigger != "manual" else 0.0
    try:
        result = app.send_task(TASK, args=[definition_path, settings_path, period_key, trigger],
                               queue=QUEUE, countdown=delay or None, retry=True,
                               retry_policy=PUBLISH_RETRY_POLICY)
    except (OperationalError, OSError) as exc:
        raise BrokerUnavailable(_where(settings.broker_url), exc) from None
    finally:
        app.close()
    return str(result.id)


def _where(url: str) -> str:
    """The broker's scheme, host and port, without its password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
