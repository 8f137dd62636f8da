"""Renderers by the name a definition's ``outputs[].format`` uses: pdf, pptx, xlsx, html.

A renderer is an object (or a class, instantiated once) with ``Options``, the pydantic
schema of the keys an output may carry beside ``format`` and ``filename``, and a call
``(model, path, options, loaded) -> Artifact`` that writes one file atomically.  The
built-ins register here the same way a plugin does through the ``reportgen.renderers``
entry-point group; the plan checks each output's options with its renderer's schema, and
the pipeline calls renderers only through ``RENDERERS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, Field

from reportgen.definition.fields import PlainPath, Strict
from reportgen.registry import Registry

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition
    from reportgen.report.model.report_model import Artifact, ReportModel


class Renderer(Protocol):
    Options: ClassVar[type[BaseModel]]

    def __call__(self, model: ReportModel, path: Path, options: Any,
                 loaded: LoadedDefinition) -> Artifact: ...


class NoOptions(Strict):
    """A renderer that takes no options."""


class PageOptions(Strict):
    template: PlainPath | None = Field(None, description="A folder of templates searched before the built-in ones, inside the definition's folder.")
    stylesheets: list[PlainPath] = Field(default_factory=list, description="Extra CSS files applied after the built-in style, inside the definition's folder.")


class PdfOptions(PageOptions):
    engine: Literal["weasyprint", "chromium"] = Field("weasyprint", description="What lays the pages out: weasyprint (built in), or chromium (the system's headless Chromium, version 131 or later, through Playwright: pip install 'reportgen[chromium]'; the executable is found on PATH or named by REPORTGEN_CHROMIUM). Both print the same templates.")


class DeckOptions(Strict):
    master: PlainPath | None = Field(None, description="A slide master .pptx to build the deck on, inside the definition's folder.")


class PdfRenderer:
    """The Monthly Quality Report (WeasyPrint, or Chromium with ``engine: chromium``)."""

    Options: ClassVar[type[BaseModel]] = PdfOptions

    def __call__(self, model: ReportModel, path: Path, options: PdfOptions,
                 loaded: LoadedDefinition) -> Artifact:
        if options.engine == "chromium":
            from reportgen.render.pdf_chromium import render_pdf_chromium as render
        else:
            from reportgen.render.pdf import render_pdf as render

        return render(model, path,
                          template_dir=loaded.resolve(options.template) if options.template
                          else None,
                          stylesheets=[loaded.resolve(s) for s in options.stylesheets])


class PptxRenderer:
    """The QBR deck (python-pptx)."""

    Options: ClassVar[type[BaseModel]] = DeckOptions

    def __call__(self, model: ReportModel, path: Path, options: DeckOptions,
                 loaded: LoadedDefinition) -> Artifact:
        from reportgen.render.pptx_deck import render_pptx

        return render_pptx(model, path,
                           master=loaded.resolve(options.master) if options.master else None)


class XlsxRenderer:
    """The data appendix."""

    Options: ClassVar[type[BaseModel]] = NoOptions

    def __call__(self, model: ReportModel, path: Path, options: NoOptions,
                 loaded: LoadedDefinition) -> Artifact:
        from reportgen.render.xlsx import render_xlsx

        return render_xlsx(model, path)


class HtmlRenderer:
    """The report as one self-contained web page."""

    Options: ClassVar[type[BaseModel]] = PageOptions

    def __call__(self, model: ReportModel, path: Path, options: PageOptions,
                 loaded: LoadedDefinition) -> Artifact:
        from reportgen.render.html import write_html

        return write_html(model, path,
                          template_dir=loaded.resolve(options.template) if options.template
                          else None,
                          stylesheets=[loaded.resolve(s) for s in options.stylesheets])


def options_model(renderer: Any) -> type[BaseModel]:
    """The schema of a renderer's options (none declared: it takes none)."""
    model = getattr(renderer, "Options", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else NoOptions


# Heavy libraries load on first use, so naming a renderer stays cheap.
RENDERERS: Registry[Renderer] = Registry("renderer", "reportgen.renderers")
_BUILTINS: tuple[tuple[str, type[Renderer]], ...] = (
    ("pdf", PdfRenderer), ("pptx", PptxRenderer), ("xlsx", XlsxRenderer), ("html", HtmlRenderer))
for _name, _renderer in _BUILTINS:
    RENDERERS.add(_name, _renderer)

__all__ = ["RENDERERS", "NoOptions", "Renderer", "options_model"]
