"""The PDF renderer: a ReportModel, through Jinja2 HTML and WeasyPrint, to a Monthly Quality Report.

``render_pdf`` fills ``report_templates/mqr/report.html.j2`` (or an organisation's override
folder first), lays it out with WeasyPrint and writes the PDF atomically.  The PDF is:

* tagged (PDF/UA-1 variant of WeasyPrint: structure tree, ``/Lang``, figure alt text),
* reproducible: creation date, file identifier and every other byte come from the model,
  so the same model renders to the same bytes,
* clean: any WeasyPrint warning or error while rendering is a RenderError, because a
  warning almost always means something a reader would see (a missing font, a dropped CSS
  rule, an image that did not load).
"""

from __future__ import annotations

import hashlib
import logging
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
from reportgen.report.model import Artifact, ReportModel

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
    html_text = render_html(model, search_path, stylesheets)
    allowed_roots = (*search_path, *(confined_stylesheet(s).parent for s in stylesheets))

    with weasyprint_messages() as messages:
        try:
            document = weasyprint.HTML(
                string=html_text,
                base_url=search_path[0].as_uri() + "/",
                url_fetcher=_local_fetcher(allowed_roots),
            ).render()
        except Exception as exc:  # WeasyPrint raises many types; callers need one
            raise RenderError(f"PDF layout failed for '{model.report_id}': {exc}") from exc
        _raise_on(messages, model, "layout")

        def write(tmp: Path) -> None:
            document.write_pdf(
                tmp,
                pdf_variant=PDF_VARIANT,
                pdf_identifier=_identifier(model),
            )
            _raise_on(messages, model, "writing")

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
