"""The browser preview: the Monthly Quality Report's own HTML, made self-contained.

The same templates as the PDF fill the same ReportModel, so the preview shows what the
PDF will say.  Stylesheets are inlined (a browser on another machine cannot read the
server's ``file://`` paths) and charts are already data URIs, so the page needs nothing
beyond itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from markupsafe import escape

from reportgen.errors import TemplateError
from reportgen.render.files import write_atomically
from reportgen.render.pdf_templates import render_html, template_search_path
from reportgen.report.model.report_model import Artifact, ReportModel

_STYLESHEET_LINK = re.compile(r'<link rel="stylesheet" href="(?P<href>file://[^"]+)">')


def preview_html(model: ReportModel, *, template_dir: Path | None = None,
                 stylesheets: Sequence[Path] = ()) -> str:
    """The report as one HTML page, its stylesheets inlined."""
    search_path = template_search_path(template_dir)
    page = inline_stylesheets(render_html(model, search_path, stylesheets), search_path,
                              stylesheets)
    return _with_main(page).replace(
        "</head>", f"<style data-source=\"screen\">{_SCREEN_CSS}</style>\n</head>", 1)


def inline_stylesheets(page: str, search_path: Sequence[Path],
                       stylesheets: Sequence[Path] = ()) -> str:
    """``page`` with each ``<link rel="stylesheet">`` to a template folder's file (or to one
    of ``stylesheets``) replaced by a ``<style>`` element holding the file."""
    allowed = [p.resolve() for p in search_path] + [Path(s).resolve().parent for s in stylesheets]

    def inline(match: re.Match[str]) -> str:
        path = Path(unquote(urlparse(match["href"]).path)).resolve()
        if not any(path.is_relative_to(root) for root in allowed):
            raise TemplateError(f"stylesheet {path} is outside the template folders")
        # '</' cannot close the <style> element early when escaped as '<\/'
        css = path.read_text(encoding="utf-8").replace("</", "<\\/")
        return f'<style data-source="{escape(path.name)}">\n{css}\n</style>'

    return _STYLESHEET_LINK.sub(inline, page)


# The print stylesheet lays out A4 pages (WeasyPrint reads no media features); a browser
# showing the preview gets a page-wide column, and on a phone one KPI per row and wide
# tables that wrap instead of widening the page.
_SCREEN_CSS = """
@media screen {
  main { max-width: 190mm; margin: 0 auto; padding: 0 5mm 10mm; }
  img { max-width: 100%; height: auto; }
}
@media screen and (max-width: 700px) {
  main { padding: 0 3mm 8mm; }
  .cover-band { padding: 14mm 6mm 8mm; }
  .cover-title { font-size: 24pt; }
  .cover-facts, .toc { margin-left: 2mm; margin-right: 2mm; }
  .cover-facts { column-gap: 5mm; }
  .kpi-grid, .kpi-grid.cols-2, .kpi-grid.cols-4 { grid-template-columns: 1fr; }
  .data-table { font-size: 8pt; }
  .data-table th, .data-table td { padding-left: 0.8mm; padding-right: 0.8mm; overflow-wrap: anywhere; }
  .action-table td, .action-table th { overflow-wrap: anywhere; }
  .appendix .stat-notes { columns: 1; }
  .scorecard-wrap { overflow-x: auto; }
  .provenance-facts div { flex-wrap: wrap; }
  .provenance-facts dd { white-space: normal; overflow-wrap: anywhere; }
}
"""


_BODY = re.compile(r"(<body\b[^>]*>)(.*)(</body>)", re.S | re.I)


def _with_main(page: str) -> str:
    """The page with its body's content in one ``main`` landmark (for screen readers), unless
    a template already has one."""
    if re.search(r"<main\b", page, re.I):
        return page
    return _BODY.sub(lambda m: f'{m[1]}<main>{m[2]}</main>{m[3]}', page, count=1)


def write_html(model: ReportModel, path: Path, *, template_dir: Path | None = None,
               stylesheets: Sequence[Path] = ()) -> Artifact:
    """Write the preview page to ``path`` atomically."""
    page = preview_html(model, template_dir=template_dir, stylesheets=stylesheets)
    return write_atomically(Path(path), "html",
                            lambda tmp: tmp.write_text(page, encoding="utf-8"))
