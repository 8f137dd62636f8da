"""The ``reportgen`` command.  The only module that prints or exits.

Exit codes: 0 success, 1 internal error, 2 invalid input (definition, data, arguments),
3 run held by data-quality gates.
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
from reportgen.errors import DefinitionError, InputError, ReportgenError
from reportgen.secrets import RedactingFilter, redact

log = logging.getLogger("reportgen")

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_HELD = 0, 1, 2, 3


def _now() -> datetime:
    return datetime.now(UTC)


def _setup_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("fontTools", "weasyprint", "matplotlib", "PIL", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not debug else logging.INFO)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


def _period_for(loaded, text: str | None):  # type: ignore[no-untyped-def]
    from reportgen.period import Period

    spec = loaded.definition.period
    if text:
        return Period.parse(text, spec.grain, spec.timezone)
    return Period.last_complete(_now(), spec.grain, spec.timezone)


def cmd_validate(args: argparse.Namespace) -> int:
    from reportgen.definition import load_definition

    status = EXIT_OK
    for file in args.files:
        try:
            loaded = load_definition(Path(file))
        except DefinitionError as exc:
            print(redact(str(exc)), file=sys.stderr)
            status = EXIT_INPUT
            continue
        d = loaded.definition
        print(f"{file}: valid ({len(d.sources)} sources, {len(d.metrics)} metrics, "
              f"{len(d.charts)} charts, {len(d.sections)} sections; outputs: "
              f"{', '.join(o.format for o in d.outputs)})")
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    from reportgen.definition import definition_schema

    text = json.dumps(definition_schema(), indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(args.out)
    else:
        print(text)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from reportgen.definition import load_definition
    from reportgen.pipeline import build_report, render_outputs

    loaded = load_definition(Path(args.definition))
    period = _period_for(loaded, args.period)
    log.info("building %s for %s", loaded.definition.id, period.label)
    result = build_report(loaded, period, now=_now())
    for warning in result.model.warnings:
        log.warning("%s", warning)
    artifacts = render_outputs(loaded, result, Path(args.out))
    for artifact in artifacts:
        print(artifact.path)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reportgen",
        description="Monthly Quality Reports (PDF) and QBR decks (PPTX) from a YAML definition.")
    parser.add_argument("--version", action="version", version=f"reportgen {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="check definitions; exit 2 if any is invalid")
    p.add_argument("files", nargs="+", metavar="DEFINITION")
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
    p.set_defaults(handler=cmd_run)

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
    _setup_logging(args.debug)
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
        return code if isinstance(exc, InputError) or code == EXIT_HELD else EXIT_INTERNAL
    except KeyboardInterrupt:
        print("reportgen: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place an unexpected error becomes an exit code
        if args.debug:
            traceback.print_exc()
        else:
            print(f"reportgen: internal error: {redact(type(exc).__name__ + ': ' + str(exc))} "
                  f"(run with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
