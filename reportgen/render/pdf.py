"""The PDF renderer: a ReportModel, through Jinja2 HTML and WeasyPrint, to a Monthly Quality Report.

``render_pdf`` fills ``report_templates/mqr/report.html.j2`` (or an organisation's override
folder first), lays it out with WeasyPrint and writes the PDF atomically.  The PDF is:

* tagged (PDF/UA-1 variant of WeasyPrint: structure tree, ``/Lang``, figure alt text),
* reproducible: creation date, file identifier and every other byte come from the model,
  so the same model renders to the same bytes,
* clean: any WeasyPrint warning or error while rendering is a RenderError, because a
  warning almost always means something a reader would see (a dropped CSS rule, an image
  that did not load).  The one exception is a character no installed font has (a queue
  named in a script the server has no font for): a value in the data must never stop a
  report, so the page is laid out again with U+FFFD (the replacement character) in its
  place, and the data-quality note says how many characters that was.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import weasyprint

from reportgen.errors import RenderError
from reportgen.render.files import write_atomically
from reportgen.render.pdf_templates import (
    builtin_template_dir,
    confined_stylesheet,
    render_html,
    template_search_path,
)
from reportgen.report.model.report_model import Artifact, ReportModel

__all__ = [
    "PDF_VARIANT",
    "WEASYPRINT_LOGGER",
    "builtin_template_dir",
    "render_pdf",
    "weasyprint_messages",
]

#: WeasyPrint's PDF variant used for every report: tagged, with document language and title.
PDF_VARIANT = "pdf/ua-1"

#: The logger WeasyPrint reports layout and resource problems on.
WEASYPRINT_LOGGER = "weasyprint"

#: WeasyPrint's warning for a character no font has, which it draws as a box (.notdef)
_MISSING_GLYPH = re.compile(r"\.notdef glyph rendered for Unicode string unsupported by fonts: "
                            r"\"(?P<text>.*)\"")

logger = logging.getLogger(__name__)


def render_pdf(
    model: ReportModel,
    out_path: Path,
    *,
    template_dir: Path | None = None,
    stylesheets: Sequence[Path] = (),
) -> Artifact:
    """Render ``model`` as a Monthly Quality Report PDF at ``out_path``, atomically.

    ``template_dir`` is searched before the built-in templates, so it may override any
    single template or ``base.css``; ``stylesheets`` are applied after the built-in CSS.
    Raises RenderError on template errors, missing assets or any WeasyPrint warning;
    ``out_path`` is then left as it was (absent, or the previous artifact).
    """
    out_path = Path(out_path)
    search_path = template_search_path(template_dir)
    allowed_roots = (*search_path, *(confined_stylesheet(s).parent for s in stylesheets))

    def layout(html_text: str) -> Any:
        try:
            return weasyprint.HTML(
                string=html_text,
                base_url=search_path[0].as_uri() + "/",
                url_fetcher=_local_fetcher(allowed_roots),
            ).render()
        except Exception as exc:  # WeasyPrint raises many types; callers need one
            raise RenderError(f"PDF layout failed for '{model.report_id}': {exc}") from exc

    def pdf(html_text: str, messages: list[logging.LogRecord]) -> tuple[bytes, str]:
        """The PDF's bytes and the characters no font had (any other problem raises)."""
        document = layout(html_text)
        missing = _missing_glyphs(messages)
        _raise_on(messages, model, "layout")
        data = document.write_pdf(pdf_variant=PDF_VARIANT, pdf_identifier=_identifier(model))
        missing += _missing_glyphs(messages)  # found as fonts are subset
        _raise_on(messages, model, "writing")
        return data, "".join(sorted(set(missing)))

    with weasyprint_messages() as messages:
        data, missing = pdf(render_html(model, search_path, stylesheets), messages)
        if missing:
            logger.warning("PDF for '%s': no installed font has %s; shown as U+FFFD. Install "
                           "a font that has them (Chinese, Japanese, Korean: fonts-noto-cjk)",
                           model.report_id, _listed(missing))
            html_text = render_html(_noting(model, missing), search_path, stylesheets)
            data, _ = pdf(_replaced(html_text, missing), messages)

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    return write_atomically(out_path, "pdf", write)


@contextmanager
def weasyprint_messages(level: int = logging.WARNING) -> Iterator[list[logging.LogRecord]]:
    """Collect WeasyPrint log records at ``level`` or above emitted by this thread.

    Only this thread's records are kept, so concurrent renders in a thread pool do not
    fail each other.
    """
    records: list[logging.LogRecord] = []
    thread = threading.get_ident()

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread == thread:
                records.append(record)

    handler = _Collect(level)
    logger = logging.getLogger(WEASYPRINT_LOGGER)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


def _missing_glyphs(messages: list[logging.LogRecord]) -> str:
    """The characters WeasyPrint found no font for (their warnings taken out of
    ``messages``), in code point order."""
    found: set[str] = set()
    kept = []
    for record in messages:
        match = _MISSING_GLYPH.match(record.getMessage())
        if match and record.levelno < logging.ERROR:
            found.update(match["text"])
        else:
            kept.append(record)
    messages[:] = kept
    return "".join(sorted(found))


_SVG_URI = re.compile(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)")


def _replaced(html_text: str, characters: str) -> str:
    """``html_text`` with each of ``characters`` replaced by U+FFFD, in its text and in the
    charts' SVG (embedded as data: URIs).  A character drawn as .notdef would otherwise
    also spoil the text a reader copies from the PDF, in every font it is set in."""
    table = dict.fromkeys(map(ord, characters), "\ufffd")

    def chart(match: re.Match[str]) -> str:
        svg = base64.b64decode(match[1]).decode("utf-8").translate(table)
        return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode()

    return _SVG_URI.sub(chart, html_text.translate(table))


def _listed(characters: str) -> str:
    return ", ".join(f"U+{ord(c):04X}" for c in characters[:12]) + (
        f" and {len(characters) - 12} more" if len(characters) > 12 else "")


def _noting(model: ReportModel, missing: str) -> ReportModel:
    """``model`` with a data-quality note on the characters shown as U+FFFD."""
    from reportgen.text import plural

    note = (f"{plural(len(missing), 'character')} that no installed font has "
            f"({_listed(missing)}) shown as \ufffd.")
    provenance = dataclasses.replace(model.provenance,
                                     data_quality=(*model.provenance.data_quality, note))
    return dataclasses.replace(model, provenance=provenance)


def _raise_on(messages: list[logging.LogRecord], model: ReportModel, stage: str) -> None:
    if messages:
        text = "; ".join(f"{r.levelname}: {r.getMessage()}" for r in messages)
        raise RenderError(
            f"PDF for '{model.report_id}' not written: WeasyPrint reported problems "
            f"during {stage}: {text}"
        )


def _identifier(model: ReportModel) -> bytes:
    """A PDF file identifier that depends only on what the report is about."""
    seed = "\x1f".join((
        model.report_id,
        model.provenance.definition_hash,
        model.provenance.period,
        model.generated_at.isoformat(),
    ))
    return hashlib.sha256(seed.encode()).hexdigest()[:32].encode()


def _local_fetcher(allowed_roots: Sequence[Path]) -> Any:
    """A URL fetcher that reads only template files and inline data, never the network.

    Charts, templates and stylesheets must not be able to pull remote content (or any
    local file) into a report that is emailed to directors.  A refused URL makes
    WeasyPrint log an error, which fails the render.
    """
    roots = tuple(Path(r).resolve() for r in allowed_roots)

    def check(url: str) -> None:
        if url.startswith("data:"):
            return
        if url.startswith("file:"):
            parts = urlsplit(url)
            local = unquote(parts.path)
            if parts.netloc in ("", "localhost") and "\x00" not in local:
                # resolve() follows symlinks, so a link inside a template folder that
                # points elsewhere is judged by where it leads
                path = Path(local).resolve()
                if any(path.is_relative_to(root) for root in roots):
                    return
        raise ValueError(f"reports may only use template files and data: URLs, not {url}")

    fetcher_class = getattr(weasyprint.urls, "URLFetcher", None)
    if fetcher_class is None:  # older WeasyPrint releases take a plain function
        def fetch(url: str, timeout: int = 10, ssl_context: Any = None) -> Any:
            check(url)
            return weasyprint.default_url_fetcher(url, timeout, ssl_context)

        return fetch

    class _LocalFetcher(fetcher_class):  # type: ignore[misc, valid-type]
        def fetch(self, url: str, headers: Any = None) -> Any:
            check(url)
            return super().fetch(url, headers)

    return _LocalFetcher(allowed_protocols={"file", "data"})
