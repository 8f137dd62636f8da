"""Renderers by the name a definition's ``outputs[].format`` uses: pdf, pptx, xlsx, html.

Each renderer takes the finished ReportModel and writes one artifact atomically; the
built-ins register here the same way a plugin does through the ``reportgen.renderers``
entry-point group.  The pipeline calls renderers only through ``RENDERERS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from reportgen.registry import Registry

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition
    from reportgen.definition.models import OutputSpec
    from reportgen.report.model import Artifact, ReportModel


class Renderer(Protocol):
    def __call__(self, model: ReportModel, path: Path, output: OutputSpec,
                 loaded: LoadedDefinition) -> Artifact: ...


def _pdf(model: ReportModel, path: Path, output: OutputSpec,
         loaded: LoadedDefinition) -> Artifact:
    from reportgen.render.pdf import render_pdf

    return render_pdf(model, path,
                      template_dir=loaded.resolve(output.template) if output.template else None,
                      stylesheets=[loaded.resolve(s) for s in output.stylesheets])


def _pptx(model: ReportModel, path: Path, output: OutputSpec,
          loaded: LoadedDefinition) -> Artifact:
    from reportgen.render.pptx import render_pptx

    return render_pptx(model, path,
                       master=loaded.resolve(output.master) if output.master else None)


def _xlsx(model: ReportModel, path: Path, output: OutputSpec,
          loaded: LoadedDefinition) -> Artifact:
    from reportgen.render.xlsx import render_xlsx

    return render_xlsx(model, path)


def _html(model: ReportModel, path: Path, output: OutputSpec,
          loaded: LoadedDefinition) -> Artifact:
    from reportgen.render.html import write_html

    return write_html(model, path,
                      template_dir=loaded.resolve(output.template) if output.template else None,
                      stylesheets=[loaded.resolve(s) for s in output.stylesheets])


# Renderers are plain functions, registered directly; their heavy libraries load on first use.
RENDERERS: Registry[Renderer] = Registry("renderer", "reportgen.renderers")
for _name, _renderer in (("pdf", _pdf), ("pptx", _pptx), ("xlsx", _xlsx), ("html", _html)):
    RENDERERS.add(_name, _renderer)

__all__ = ["RENDERERS", "Renderer"]
