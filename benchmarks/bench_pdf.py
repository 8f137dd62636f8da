"""The Monthly Quality Report's PDF, three ways, one per process (to pair with measure.py).

    python benchmarks/bench_pdf.py prepare --data out/demo --out /tmp/bench_pdf
    python benchmarks/bench_pdf.py weasyprint /tmp/bench_pdf   # WeasyPrint, as engine: weasyprint
    python benchmarks/bench_pdf.py chromium /tmp/bench_pdf     # reportgen's engine: chromium
    python benchmarks/bench_pdf.py floor /tmp/bench_pdf        # plain Playwright, no reportgen

``prepare`` builds the demo MQR for September 2026 once and keeps its model (pickled) and
the page the templates make of it, stylesheets inlined (``report.html``).  All three turn
that same page into a PDF: ``weasyprint`` lays it out as the WeasyPrint engine does (tagged
PDF/UA); ``chromium`` prints it through reportgen's Chromium engine (its browser thread,
the running strings, the contents' page numbers: two prints; ``--single-print`` leaves the
numbers out, to show what the second print costs).  ``floor`` is the least a
PDF of the same page can cost: a
plain Playwright script that starts the system Chromium, calls ``page.set_content(html)``
and ``page.pdf()`` with the same page options (the stylesheet's page size, backgrounds,
tags and outline, as the report needs), and writes the file; it imports nothing of
reportgen.  Every mode starts its own browser, so each process pays one browser start.
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("REPORTGEN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def prepare(data: Path, out: Path) -> None:
    from reportgen.period import Period
    from reportgen.plan import load_definition
    from reportgen.render.html import inline_stylesheets
    from reportgen.render.pdf_templates import render_html, template_search_path
    from reportgen.run.build import build_report

    (out / "configs").mkdir(parents=True, exist_ok=True)
    (out / "out").mkdir(exist_ok=True)
    link = out / "out" / "demo"
    if not link.exists():
        link.symlink_to(data.resolve(), target_is_directory=True)
    shutil.copy(REPO / "configs" / "monthly_quality_report.yaml", out / "configs" / "mqr.yaml")
    loaded = load_definition(out / "configs" / "mqr.yaml")
    period = Period.parse("2026-09", "month", "Europe/Berlin")
    model = build_report(loaded, period, now=datetime(2026, 10, 2, 7, 0, tzinfo=UTC)).drawn().model
    (out / "model.pickle").write_bytes(pickle.dumps(model))
    search_path = template_search_path(None)
    page = inline_stylesheets(render_html(model, search_path), search_path)
    (out / "report.html").write_text(page, encoding="utf-8")


def render(engine: str, folder: Path, single_print: bool = False) -> None:
    html = (folder / "report.html").read_text(encoding="utf-8")
    if single_print:  # what the second print costs: no contents page numbers to fill in
        html = html.replace("target-counter(attr(href), page)", '""')
    if engine == "chromium":
        from reportgen.render.chromium_print import chromium_pdf

        data = chromium_pdf(html, "mqr")
    else:
        import weasyprint

        from reportgen.render.pdf import PDF_VARIANT

        data = weasyprint.HTML(string=html).write_pdf(pdf_variant=PDF_VARIANT)
    (folder / f"{engine}.pdf").write_bytes(data)


def floor(folder: Path) -> None:
    from playwright.sync_api import sync_playwright

    html = (folder / "report.html").read_text(encoding="utf-8")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page()
        page.set_content(html)
        data = page.pdf(prefer_css_page_size=True, print_background=True, tagged=True,
                        outline=True)
        browser.close()
    (folder / "floor.pdf").write_bytes(data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    prep = commands.add_parser("prepare", help="build the demo MQR's model and page once")
    prep.add_argument("--data", type=Path, required=True, help="the output of reportgen demo")
    prep.add_argument("--out", type=Path, required=True)
    for name in ("weasyprint", "chromium", "floor"):
        command = commands.add_parser(name)
        command.add_argument("folder", type=Path)
        if name == "chromium":
            command.add_argument("--single-print", action="store_true",
                                 help="leave the contents' page numbers out (one print, not two)")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare(args.data, args.out)
    elif args.command == "floor":
        floor(args.folder)
    else:
        render(args.command, args.folder, getattr(args, "single_print", False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
