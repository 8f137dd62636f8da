"""The Monthly Quality Report printed by headless Chromium (``engine: chromium``).

The same templates fill the same model as for WeasyPrint (``pdf.py``); the page is made
self-contained (stylesheets inlined, template files as ``data:`` URIs) and printed by the
system's Chromium through Playwright, on this process's one browser (``browser.py``), with
the running header and the contents' page numbers filled in (``chromium_print.py``).
A request leaving the page fails the render, as WeasyPrint's fetcher does.  Unlike
WeasyPrint's, Chromium's PDF is not byte-for-byte reproducible (its tags carry node
numbers), but its dates are the model's.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from urllib.parse import unquote, urlsplit

from reportgen.errors import TemplateError
from reportgen.render.browser import BROWSER
from reportgen.render.chromium_print import chromium_pdf
from reportgen.render.files import write_atomically
from reportgen.render.html import inline_stylesheets
from reportgen.render.pdf_templates import confined_stylesheet, render_html, template_search_path
from reportgen.report.model.report_model import Artifact, ReportModel

__all__ = ["embedded", "render_pdf_chromium"]


def render_pdf_chromium(
    model: ReportModel,
    out_path: Path,
    *,
    template_dir: Path | None = None,
    stylesheets: Sequence[Path] = (),
) -> Artifact:
    """Render ``model`` as a Monthly Quality Report PDF at ``out_path`` with Chromium,
    atomically (arguments as ``pdf.render_pdf``)."""
    BROWSER.start()  # Chromium starts while the templates are filled
    search_path = template_search_path(template_dir)
    allowed_roots = (*search_path, *(confined_stylesheet(s).parent for s in stylesheets))
    page_html = embedded(inline_stylesheets(render_html(model, search_path, stylesheets),
                                            search_path, stylesheets), allowed_roots)
    data = _dated(chromium_pdf(page_html, model.report_id), model)
    return write_atomically(Path(out_path), "pdf", lambda tmp: tmp.write_bytes(data))


# in an attribute or a stylesheet's url(), never in text a reader sees
_FILE_URL = re.compile(r"""(?P<lead>(?:src|href)="|url\(\s*["']?)(?P<url>file://[^\s"'()<>]+)""")


def embedded(page_html: str, allowed_roots: Sequence[Path]) -> str:
    """``page_html`` with every ``file:`` URL (a template's image or font) replaced by a
    ``data:`` URI of the file; a file outside the template folders is refused."""
    roots = tuple(Path(r).resolve() for r in allowed_roots)

    def data_uri(match: re.Match[str]) -> str:
        parts = urlsplit(match["url"])
        path = Path(unquote(parts.path)).resolve()
        if parts.netloc not in ("", "localhost") or not any(
                path.is_relative_to(root) for root in roots) or not path.is_file():
            raise TemplateError(f"reports may only use template files and data: URLs, "
                                f"not {match['url']}")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return match["lead"] + f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"

    return _FILE_URL.sub(data_uri, page_html)


_PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}[^)]{0,7}\)")


def _dated(data: bytes, model: ReportModel) -> bytes:
    """The PDF with its creation and modification dates set to the model's (Chromium writes
    the time of printing); replaced at equal length, so the cross-reference table holds."""
    generated = model.generated_at
    stamp = (generated if generated.tzinfo else generated.replace(tzinfo=UTC)).astimezone(UTC)
    text = stamp.strftime("D:%Y%m%d%H%M%S+00'00'").encode()

    def replace(match: re.Match[bytes]) -> bytes:
        new = b"/" + match[1] + b" (" + text + b")"
        return new if len(new) == len(match[0]) else match[0]

    return _PDF_DATE.sub(replace, data)
