"""The commands about one report: ``validate``, ``schema``, ``run`` (with its progress display),
``history`` and ``resend``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from reportgen.cli.arguments import ledger_from_args, period_for, settings_from_args
from reportgen.cli.process import (
    EXIT_HELD,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_RESOURCE,
    log,
    terminate_like_interrupt,
)
from reportgen.errors import DefinitionError, InputError
from reportgen.secrets import redact


def cmd_validate(args: argparse.Namespace) -> int:
    from reportgen.plan import load_definition

    # with --settings, a fan-out's recipients are checked against its allowed_domains
    domains = None
    if args.settings:
        from reportgen.settings import load_settings

        domains = load_settings(Path(args.settings)).allowed_domains
    status = EXIT_OK
    for file in args.files:
        try:
            loaded = load_definition(Path(file))
            if loaded.definition.fan_out is not None:  # its recipients: only then the data layer
                from reportgen.run.fanout import FanOutError
                from reportgen.run.recipients import recipient_problems

                problems = recipient_problems(loaded, domains)
                if problems:
                    raise FanOutError(problems)
        except (DefinitionError, InputError) as exc:
            print(redact(str(exc) if isinstance(exc, DefinitionError) else f"{file}: {exc}"),
                  file=sys.stderr)
            status = EXIT_INPUT
            continue
        d = loaded.definition
        print(f"{file}: valid ({len(d.sources)} sources, {len(d.metrics)} metrics, "
              f"{len(d.charts)} charts, {len(d.sections)} sections; outputs: "
              f"{', '.join(o.format for o in d.outputs)})")
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    from reportgen.plan.schema import definition_schema

    text = json.dumps(definition_schema(), indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(args.out)
    else:
        print(text)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from reportgen.executors.placement import InlineExecutor
    from reportgen.plan import load_definition
    from reportgen.run.core import RunRequest

    loaded = load_definition(Path(args.definition))
    period = period_for(loaded, args.period)
    settings = settings_from_args(args)
    if args.enqueue:
        return _enqueue(args, loaded, period.key, settings)
    request = RunRequest(Path(args.definition), period.key, "manual", send=args.send,
                         confirm_unknown=args.confirm_unknown, jobs=args.jobs,
                         out_dir=Path(args.out))
    if not (args.debug or args.verbose):
        # this command shows the run's progress and outcome itself; the runner's log repeats it
        for name in ("runner", "publishing", "holds", "failures"):
            logging.getLogger(f"reportgen.run.{name}").setLevel(logging.CRITICAL)
    terminate_like_interrupt()
    told: list[dict] = []
    with _progress_display(loaded.definition.id, period.key, enabled=not args.json) as show:
        def sink(event) -> None:
            told.append(event.to_json())
            show(event)

        outcome = InlineExecutor(settings).place(request, loaded=loaded, sink=sink).outcome
    assert outcome is not None
    record = outcome.record
    assert record is not None
    if args.json:
        print(json.dumps({**run_result(record, outcome.children), "events": told}, indent=2))
    elif loaded.definition.fan_out is not None:
        for artifact in record.artifacts:
            print(artifact.path)
        for child in outcome.children:
            paths = " ".join(a.path for a in child.artifacts)
            print(f"  {child.segment}: {child.status}"
                  + (f" {paths}" if paths else f" ({child.error})" if child.error else ""))
    if record.status == "held":
        print(f"reportgen: run #{record.id} held by data-quality gates: {record.error}",
              file=sys.stderr)
        return EXIT_HELD
    if record.status == "failed":
        if outcome.failure is not None:
            raise outcome.failure
        print(f"reportgen: run #{record.id} failed: {record.error}", file=sys.stderr)
        return EXIT_INTERNAL
    if not args.json and loaded.definition.fan_out is None:
        for artifact in record.artifacts:
            print(artifact.path)
    if record.status == "partial" and loaded.definition.fan_out is not None:
        print(f"reportgen: run #{record.id} {record.status}: {record.error}", file=sys.stderr)
        return EXIT_INTERNAL
    if record.status == "partial":
        print(f"reportgen: run #{record.id} delivered in part: {record.error}; the owner was "
              f"told (see 'reportgen history')", file=sys.stderr)
        return EXIT_INTERNAL
    sent = [d for d in record.deliveries if d.status == "sent"]
    if args.send:
        log.info("run #%d delivered to %d recipient(s)", record.id, len(sent))
    return EXIT_OK


def _enqueue(args: argparse.Namespace, loaded, period_key: str, settings) -> int:
    """``run --enqueue``: record the run in the ledger and put it on the broker."""
    from reportgen.errors import Problem
    from reportgen.executors.placement import CeleryExecutor
    from reportgen.run.core import RunRequest
    from reportgen.settings import SettingsError

    problems = [Problem(option, f"does not go with --enqueue: {why}")
                for option, given, why in (
                    ("--jobs", args.jobs is not None, "the workers' settings choose it"),
                    ("--confirm-unknown", args.confirm_unknown is not None,
                     "settle cut-off sends with a run here"),
                    ("--send", args.send and not settings.send,
                     "the workers send only when the settings say send: true"))
                if given]
    if not settings.broker_url:
        problems.append(Problem("broker_url", "--enqueue needs a broker: set broker_url in "
                                "the settings or REPORTGEN_BROKER_URL, e.g. "
                                "redis://127.0.0.1:6379/0"))
    if not (getattr(args, "settings", None) or os.environ.get("REPORTGEN_SETTINGS")
            or os.environ.get("REPORTGEN_LEDGER_URL") or getattr(args, "ledger", None)):
        problems.append(Problem("ledger_url", "--enqueue records the run in the run ledger "
                                "the daemon and the workers read: name it in the settings "
                                "(--settings) or with REPORTGEN_LEDGER_URL"))
    if problems:
        raise SettingsError(getattr(args, "settings", None) or "run --enqueue", problems)
    settings_file = getattr(args, "settings", None)
    request = RunRequest(Path(args.definition).resolve(), period_key, "manual",
                         send=settings.send)
    placed = CeleryExecutor(settings, str(Path(settings_file).resolve()) if settings_file
                            else None).place(request, loaded=loaded)
    result = {"report": loaded.definition.id, "period": period_key,
              "enqueued": placed.enqueued_id, "task": placed.task_id}
    if args.json:
        print(json.dumps(result, indent=2))
    elif placed.task_id is not None:
        print(f"{loaded.definition.id} {period_key}: queued for the workers as task "
              f"{placed.task_id}")
    if placed.task_id is None:
        print(f"reportgen: the broker could not be reached; the run is kept queued in the "
              f"run ledger (#{placed.enqueued_id}) and the schedule daemon publishes it when "
              f"the broker is back", file=sys.stderr)
        return EXIT_RESOURCE
    return EXIT_OK


class _progress_display:  # noqa: N801 (used as a context manager, like the library's own)
    """A live line on a terminal: the run's stage and elapsed time, and a fan-out's segments
    counted with an ETA; nothing when stderr is not a terminal (or with --json)."""

    def __init__(self, report_id: str, period_key: str, *, enabled: bool):
        self.progress = None
        self.label = f"{report_id} {period_key}"
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                     BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                     TimeRemainingColumn(), transient=True,
                                     console=Console(stderr=True))
        self.task = None

    def __enter__(self):
        if self.progress is not None:
            self.progress.__enter__()
            self.task = self.progress.add_task(self.label, total=None)
        return self.show

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)  # type: ignore[arg-type]

    def show(self, event) -> None:
        if self.progress is None or self.task is None:
            return
        if event.kind == "run_started" and event.segments:
            self.progress.update(self.task, total=event.segments)
        elif event.kind == "stage_started":
            self.progress.update(self.task, description=f"{self.label}: {event.stage}")
        elif event.kind == "segment_finished":
            self.progress.update(self.task, completed=event.done,
                                 description=f"{self.label}: {event.segment} {event.status}")


def run_result(record, children=()) -> dict:
    """What ``run --json`` prints: the run, its files, deliveries and headline values, and
    for a fan-out each segment's run the same way."""
    def one(r) -> dict:
        data = r.to_json()
        summary = r.summary or {}
        mail = summary.get("mail") or {}
        # the numbers with their context, what the data was, and what this run restates
        data["metrics"] = summary.get("metrics", [])
        data["data_fingerprints"] = summary.get("data_fingerprints", {})
        data["as_of"] = summary.get("as_of")
        data["restatements"] = mail.get("restatements", [])
        data["headline"] = [{"label": k.get("label"), "value": k.get("value_text"),
                             "change": k.get("delta_text"), "status": k.get("status")}
                            for k in mail.get("kpis", ())]
        return data

    out = one(record)
    if children:
        out["segments"] = [one(c) for c in children]
    return out


def cmd_history(args: argparse.Namespace) -> int:
    ledger = ledger_from_args(settings_from_args(args))
    runs = ledger.history(args.report, limit=args.limit)
    if args.json:
        print(json.dumps([{**r.to_json(),
                           "children": [c.to_json() for c in ledger.children_of(r.id)]}
                          for r in runs], indent=2))
        return EXIT_OK
    if not runs:
        print("no runs recorded")
        return EXIT_OK
    print(f"{'run':>5}  {'report':<20} {'period':<9} {'trigger':<9} {'status':<10} "
          f"{'started (UTC)':<17} {'sent':>4}  note")
    for r in runs:
        sent = sum(1 for d in r.deliveries if d.status == "sent" and d.channel == "email")
        note = (r.error or "").replace("\n", " ")
        print(f"{r.id:>5}  {r.report_id:<20} {r.period:<9} {r.trigger:<9} {r.status:<10} "
              f"{r.started_at:%Y-%m-%d %H:%M}  {sent:>4}  {note[:80]}")
        for c in ledger.children_of(r.id):  # a fan-out's segments, under their run
            sent = sum(1 for d in c.deliveries if d.status == "sent" and d.channel == "email")
            note = (c.error or "").replace("\n", " ")
            print(f"{c.id:>5}    {c.segment or c.report_id:<18} {c.period:<9} {'':<9} "
                  f"{c.status:<10} {c.started_at:%Y-%m-%d %H:%M}  {sent:>4}  {note[:80]}")
    return EXIT_OK


def cmd_resend(args: argparse.Namespace) -> int:
    import os

    from reportgen.errors import DeliveryError
    from reportgen.run.runner import resend_run

    settings = settings_from_args(args)
    if settings.smtp is None:
        raise DeliveryError("resend needs SMTP settings: give --settings FILE with an 'smtp' "
                            "section, or set REPORTGEN_SMTP_HOST")
    file = args.settings or os.environ.get("REPORTGEN_SETTINGS")
    ledger = ledger_from_args(settings, None if file else args.out)
    report = resend_run(args.run, args.to, ledger=ledger, smtp=settings.smtp)
    for outcome in report.outcomes:
        print(f"{outcome.recipient}: {outcome.status}")
    return EXIT_OK if not report.failed else EXIT_INTERNAL
