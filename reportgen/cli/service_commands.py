"""The commands that start or administer a service: ``worker``, ``schedule``, ``serve``,
``users`` and ``demo``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from reportgen.cli.arguments import ledger_from_args, now_utc, settings_from_args
from reportgen.cli.process import EXIT_OK
from reportgen.errors import InputError


def cmd_worker(args: argparse.Namespace) -> int:
    from reportgen.executors.celery_app import run_worker

    settings = settings_from_args(args)
    return run_worker(settings, concurrency=args.concurrency, queues=args.queues,
                      hostname=args.name)


def cmd_schedule(args: argparse.Namespace) -> int:
    import os
    import threading

    from reportgen.executors.daemon import run_daemon, stop_on_signals
    from reportgen.executors.schedule_sync import describe_schedule

    directory = Path(args.directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: not a folder of report definitions")
    file = args.settings or os.environ.get("REPORTGEN_SETTINGS")
    settings_path = Path(file) if file else None
    if args.list:
        rows = describe_schedule(directory, now_utc(), settings_path=settings_path)
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
    dataset = generate_demo_data(Path(args.out), seed=args.seed, end_month=end_month, now=now_utc())
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
    settings = settings_from_args(args)
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
    WebStore(ledger_from_args(settings_from_args(args)).engine).set_password(args.name, password)
    print(f"changed the password of {args.name}; their sessions are signed out")
    return EXIT_OK


def cmd_users_add(args: argparse.Namespace) -> int:
    from reportgen.web.store import WebStore

    password = _new_password(args.name)
    ledger = ledger_from_args(settings_from_args(args))
    user = WebStore(ledger.engine).add_user(args.name, args.email, args.role, password)
    print(f"added {user.name} ({user.role}, {user.email})")
    return EXIT_OK
