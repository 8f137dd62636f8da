"""The ``reportgen`` command: its arguments and the dispatch to each subcommand.  The cli
package is the only code that prints or exits.

Exit codes: 0 success, 1 internal error or a report not delivered to every recipient,
2 invalid input (definition, data, arguments), 3 run held by data-quality gates or short
of memory (the message says which setting to raise),
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence

from reportgen import __version__
from reportgen.cli.arguments import add_ledger_options
from reportgen.cli.process import (
    EXIT_HELD,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    Terminated,
    setup_logging,
)
from reportgen.cli.report_commands import cmd_history, cmd_resend, cmd_run, cmd_schema, cmd_validate
from reportgen.cli.service_commands import (
    cmd_demo,
    cmd_schedule,
    cmd_serve,
    cmd_users_add,
    cmd_users_password,
    cmd_worker,
)
from reportgen.errors import DefinitionError, InputError, ReportgenError, ResourceError
from reportgen.secrets import redact


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
    p.add_argument("--enqueue", action="store_true",
                   help="put the run on the broker for 'reportgen worker' processes instead "
                        "of running it here; the workers run it as a scheduled run, sending "
                        "when the settings say send (needs broker_url)")
    add_ledger_options(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("worker", help="run a Celery worker taking report runs from the broker")
    p.add_argument("--concurrency", type=int, metavar="N",
                   help="runs at once (default: settings max_concurrent_runs)")
    p.add_argument("--queues", default="reportgen", metavar="Q1,Q2")
    p.add_argument("--name", metavar="NAME", help="worker name (default: reportgen@host)")
    add_ledger_options(p)
    p.set_defaults(handler=cmd_worker)

    p = sub.add_parser("history", help="list recorded runs and their deliveries")
    p.add_argument("report", nargs="?", help="only this report id")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--out", default="out", metavar="DIR", help="where 'run' wrote (default: out)")
    add_ledger_options(p)
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("resend", help="send a recorded run's report again")
    p.add_argument("run", type=int, metavar="RUN", help="run number (see 'history')")
    p.add_argument("--to", metavar="ADDRESS", help="send only to this address")
    p.add_argument("--out", default="out", metavar="DIR", help="where 'run' wrote (default: out)")
    add_ledger_options(p)
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
    add_ledger_options(p)
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("users", help="accounts of the web page")
    users = p.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    p = users.add_parser("add", help="add an account; the password is asked for, or read "
                                     "from standard input")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", required=True, choices=["viewer", "analyst", "approver", "admin"])
    p.add_argument("--email", required=True, help="where 'send a test to me' goes")
    p.add_argument("--out", default="out", metavar="DIR", help="where 'run' wrote (default: out)")
    add_ledger_options(p)
    p.set_defaults(handler=cmd_users_add)
    p = users.add_parser("password", help="give an account a new password (asked for, or read "
                                          "from standard input); its sessions are signed out")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--out", default="out", metavar="DIR", help="where 'run' wrote (default: out)")
    add_ledger_options(p)
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
    setup_logging(args.debug, args.verbose)
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
