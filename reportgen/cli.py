"""The ``reportgen`` command.  The only module that prints or exits.

Exit codes: 0 success, 1 internal error or a report not delivered to every recipient,
2 invalid input (definition, data, arguments), 3 run held by data-quality gates or short
of memory (the message says which setting to raise),
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from reportgen import __version__
from reportgen.errors import DefinitionError, InputError, ReportgenError, ResourceError
from reportgen.secrets import RedactingFilter, redact

log = logging.getLogger("reportgen")

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_HELD = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so it unwinds like Ctrl-C: the run in progress
    is recorded as interrupted and its lock released."""


def _terminate_like_interrupt() -> None:
    import signal

    def raise_terminated(signum: int, frame: object) -> None:
        raise Terminated()

    signal.signal(signal.SIGTERM, raise_terminated)


def _now() -> datetime:
    return datetime.now(UTC)


def _setup_logging(debug: bool, verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING)
    for noisy in ("fontTools", "weasyprint", "matplotlib", "PIL", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not debug else logging.INFO)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


def _period_for(loaded, text: str | None):
    from reportgen.period import Period

    spec = loaded.definition.period
    if text:
        return Period.parse(text, spec.grain, spec.timezone)
    return Period.last_complete(_now(), spec.grain, spec.timezone)


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


def _settings(args: argparse.Namespace):
    """Settings from --settings or $REPORTGEN_SETTINGS; the ledger defaults to the output folder."""
    import os

    from reportgen.settings import load_settings

    file = getattr(args, "settings", None) or os.environ.get("REPORTGEN_SETTINGS")
    settings = load_settings(Path(file) if file else None)
    ledger = getattr(args, "ledger", None)
    if ledger:
        settings = settings.model_copy(update={"ledger_url": ledger})
    elif not file and "REPORTGEN_LEDGER_URL" not in os.environ:
        out = Path(getattr(args, "out", None) or "out")
        settings = settings.model_copy(
            update={"ledger_url": f"sqlite:///{(out / 'reportgen-runs.sqlite').resolve()}"})
    return settings


def _ledger(settings, out: str | None = None):
    """The settings' ledger; ``out`` (a command's --out) is where runs wrote, used to find
    files recorded with a path relative to another folder."""
    from reportgen.ledger.store import Ledger

    out_dir = Path(out).resolve() if out else settings.resolved_out_dir()
    return Ledger(settings.resolved_ledger_url(), out_dir=out_dir)


def cmd_run(args: argparse.Namespace) -> int:
    from reportgen.plan import load_definition
    from reportgen.run.core import RunRequest, execute

    loaded = load_definition(Path(args.definition))
    period = _period_for(loaded, args.period)
    settings = _settings(args)
    request = RunRequest(Path(args.definition), period.key, "manual", send=args.send,
                         confirm_unknown=args.confirm_unknown, jobs=args.jobs,
                         out_dir=Path(args.out))
    if not (args.debug or args.verbose):
        # this command shows the run's progress and outcome itself; the runner's log repeats it
        logging.getLogger("reportgen.run.runner").setLevel(logging.CRITICAL)
    _terminate_like_interrupt()
    told: list[dict] = []
    with _progress_display(loaded.definition.id, period.key, enabled=not args.json) as show:
        def sink(event) -> None:
            told.append(event.to_json())
            show(event)

        outcome = execute(request, settings, loaded=loaded, sink=sink)
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


def cmd_worker(args: argparse.Namespace) -> int:
    from reportgen.executors.celery_app import run_worker

    settings = _settings(args)
    return run_worker(settings, concurrency=args.concurrency, queues=args.queues,
                      hostname=args.name)


def cmd_history(args: argparse.Namespace) -> int:
    ledger = _ledger(_settings(args))
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

    settings = _settings(args)
    if settings.smtp is None:
        raise DeliveryError("resend needs SMTP settings: give --settings FILE with an 'smtp' "
                            "section, or set REPORTGEN_SMTP_HOST")
    file = args.settings or os.environ.get("REPORTGEN_SETTINGS")
    ledger = _ledger(settings, None if file else args.out)
    report = resend_run(args.run, args.to, ledger=ledger, smtp=settings.smtp)
    for outcome in report.outcomes:
        print(f"{outcome.recipient}: {outcome.status}")
    return EXIT_OK if not report.failed else EXIT_INTERNAL


def cmd_schedule(args: argparse.Namespace) -> int:
    import os
    import threading

    from reportgen.executors.scheduler import describe_schedule, run_daemon, stop_on_signals

    directory = Path(args.directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: not a folder of report definitions")
    file = args.settings or os.environ.get("REPORTGEN_SETTINGS")
    settings_path = Path(file) if file else None
    if args.list:
        rows = describe_schedule(directory, _now(), settings_path=settings_path)
        if not rows:
            print(f"no scheduled definitions in {directory}")
        for row in rows:
            if row.error is not None:
                print(f"{row.report_id:<24} invalid, not scheduled: {row.error}")
                continue
            when = f"{row.next_run_local:%Y-%m-%d %H:%M %Z}" if row.next_run_local else "paused"
            print(f"{row.report_id:<24} {row.cron:<18} {row.timezone:<18} "
                  f"next {when}  -> period {row.next_period or '-'}")
        return EXIT_OK
    if not args.debug:  # a daemon's log is its output: what was scheduled, what ran
        logging.getLogger().setLevel(logging.INFO)
    stop = threading.Event()
    stop_on_signals(stop)
    run_daemon(directory, settings_path, stop_event=stop)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from datetime import date

    from reportgen.demo import generate_demo_data

    end_month = None
    if args.end_month:
        year, month = (int(x) for x in args.end_month.split("-"))
        end_month = date(year, month, 1)
    dataset = generate_demo_data(Path(args.out), seed=args.seed, end_month=end_month, now=_now())
    print(dataset.sqlite_path)
    for path in dataset.csv_paths.values():
        print(path)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from reportgen.web import WebConfig, create_app

    directory = Path(args.directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: not a folder of report definitions")
    secret = os.environ.get("REPORTGEN_WEB_SECRET", "")
    if len(secret) < 32:
        raise InputError("REPORTGEN_WEB_SECRET: expected a random secret of at least 32 "
                         "characters (e.g. from 'python -c \"import secrets; "
                         "print(secrets.token_urlsafe(32))\"'), found "
                         + ("nothing" if not secret else f"{len(secret)} characters"))
    settings = _settings(args)
    file = args.settings or os.environ.get("REPORTGEN_SETTINGS")
    if not file:  # runs started from the page write beside the ledger, as 'run --out' does
        settings = settings.model_copy(update={"out_dir": Path(args.out).resolve()})
    web = settings.web
    app = create_app(WebConfig(directory, settings, secret,
                               settings_path=Path(file) if file else None,
                               secure_cookies=web.secure_cookies and not args.insecure_cookies))
    logging.getLogger().setLevel(logging.INFO)
    uvicorn.run(app, host=args.host or web.host, port=args.port or web.port,
                log_level="info", proxy_headers=False)
    return EXIT_OK


def _new_password(name: str) -> str:
    """Asked twice on a terminal, else the first line of standard input."""
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            raise InputError("the two passwords differ; nothing was saved")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users_password(args: argparse.Namespace) -> int:
    from reportgen.web.store import WebStore

    password = _new_password(args.name)
    WebStore(_ledger(_settings(args)).engine).set_password(args.name, password)
    print(f"changed the password of {args.name}; their sessions are signed out")
    return EXIT_OK


def cmd_users_add(args: argparse.Namespace) -> int:
    from reportgen.web.store import WebStore

    password = _new_password(args.name)
    ledger = _ledger(_settings(args))
    user = WebStore(ledger.engine).add_user(args.name, args.email, args.role, password)
    print(f"added {user.name} ({user.role}, {user.email})")
    return EXIT_OK


def _ledger_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--settings", metavar="FILE",
                   help="settings YAML (SMTP, ledger); default $REPORTGEN_SETTINGS")
    p.add_argument("--ledger", metavar="URL",
                   help="run ledger URL (default: DIR/reportgen-runs.sqlite beside the reports)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reportgen",
        description="Monthly Quality Reports (PDF) and QBR decks (PPTX) from a YAML definition.")
    parser.add_argument("--version", action="version", version=f"reportgen {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check definitions; exit 2 if any is invalid")
    p.add_argument("files", nargs="+", metavar="DEFINITION")
    p.add_argument("--settings", metavar="FILE",
                   help="also check each fan-out's recipients against these settings' "
                        "allowed_domains")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of a report definition")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(handler=cmd_schema)

    p = sub.add_parser("run", help="build a report for one period and write its outputs")
    p.add_argument("definition", metavar="DEFINITION")
    p.add_argument("--period", metavar="P",
                   help="2026-10 (month), 2026-Q3 (quarter) or 2026-W42 (week); "
                        "default: the last complete period in the report's timezone")
    p.add_argument("--out", default="out", metavar="DIR", help="output folder (default: out)")
    p.add_argument("--send", action="store_true",
                   help="email the report to the definition's recipients (once per recipient)")
    p.add_argument("--confirm-unknown", choices=["sent", "resend"], metavar="sent|resend",
                   help="settle recipients whose earlier send was cut off (history shows "
                        "them 'unconfirmed'): 'sent' records them as delivered, 'resend' "
                        "sends again with the same Message-ID; without it they are held")
    p.add_argument("--json", action="store_true",
                   help="print the run's result (files, per-segment status, headline values)")
    p.add_argument("--jobs", type=int, metavar="N",
                   help="processes rendering a fan-out's reports (default: settings jobs, "
                        "else the number of cores)")
    _ledger_options(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("worker", help="run a Celery worker taking report runs from the broker")
    p.add_argument("--concurrency", type=int, metavar="N",
                   help="runs at once (default: settings max_concurrent_runs)")
    p.add_argument("--queues", default="reportgen", metavar="Q1,Q2")
    p.add_argument("--name", metavar="NAME", help="worker name (default: reportgen@host)")
    _ledger_options(p)
    p.set_defaults(handler=cmd_worker)

    p = sub.add_parser("history", help="list recorded runs and their deliveries")
    p.add_argument("report", nargs="?", help="only this report id")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--out", default="out", metavar="DIR", help="where 'run' wrote (default: out)")
    _ledger_options(p)
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("resend", help="send a recorded run's report again")
    p.add_argument("run", type=int, metavar="RUN", help="run number (see 'history')")
    p.add_argument("--to", metavar="ADDRESS", help="send only to this address")
    p.add_argument("--out", default="out", metavar="DIR", help="where 'run' wrote (default: out)")
    _ledger_options(p)
    p.set_defaults(handler=cmd_resend)

    p = sub.add_parser("schedule", help="run every definition in DIR on its schedule")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--list", action="store_true", help="show what runs when, then exit")
    p.add_argument("--settings", metavar="FILE", help="settings YAML (SMTP, ledger, job store)")
    p.set_defaults(handler=cmd_schedule)

    p = sub.add_parser("serve", help="the web page: reports, runs, previews and approvals")
    p.add_argument("directory", metavar="DIR", help="folder of report definitions")
    p.add_argument("--host", help="address to listen on (default: settings web.host)")
    p.add_argument("--port", type=int, help="port to listen on (default: settings web.port)")
    p.add_argument("--insecure-cookies", action="store_true",
                   help="allow the session cookie over plain HTTP (a page on this machine only)")
    p.add_argument("--out", default="out", metavar="DIR",
                   help="where runs write (default: out; settings out_dir when given)")
    _ledger_options(p)
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("users", help="accounts of the web page")
    users = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    p = users.add_parser("add", help="add an account; the password is asked for, or read "
                                     "from standard input")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", required=True, choices=["viewer", "analyst", "approver", "admin"])
    p.add_argument("--email", required=True, help="where 'send a test to me' goes")
    p.add_argument("--out", default="out", metavar="DIR", help="where 'run' wrote (default: out)")
    _ledger_options(p)
    p.set_defaults(handler=cmd_users_add)
    p = users.add_parser("password", help="give an account a new password (asked for, or read "
                                          "from standard input); its sessions are signed out")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--out", default="out", metavar="DIR", help="where 'run' wrote (default: out)")
    _ledger_options(p)
    p.set_defaults(handler=cmd_users_password)

    p = sub.add_parser("demo", help="write seeded demo data (13 months) for the example reports")
    p.add_argument("--out", default="out/demo", metavar="DIR")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--end-month", metavar="YYYY-MM",
                   help="last month of data (default: the last complete month)")
    p.set_defaults(handler=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.debug, args.verbose)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except DefinitionError as exc:
        print(redact(str(exc)), file=sys.stderr)
        return EXIT_INPUT
    except ReportgenError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"reportgen: {redact(str(exc))}", file=sys.stderr)
        code = getattr(exc, "exit_code", EXIT_INTERNAL)
        return code if isinstance(exc, InputError | ResourceError) or code == EXIT_HELD \
            else EXIT_INTERNAL
    except Terminated:
        print("reportgen: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("reportgen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the one place an unexpected error becomes an exit code
        if args.debug:
            traceback.print_exc()
        else:
            print(f"reportgen: internal error: {redact(type(exc).__name__ + ': ' + str(exc))} "
                  f"(run with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
