"""The functions a run builds, renders and loads with (the real pipeline or a stand-in named
in settings), and the code version a run records.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.report.model.report_model import Artifact

if TYPE_CHECKING:
    from reportgen.definition import LoadedDefinition
    from reportgen.run.build import BuildResult


BuildFn = Callable[..., "BuildResult"]


RenderFn = Callable[["LoadedDefinition", "BuildResult", Path], list[Artifact]]


LoadFn = Callable[[Path], "LoadedDefinition"]


@dataclass(frozen=True)
class Pipeline:
    """The three pipeline entry points a run calls (replaceable by a plugin module)."""

    load: LoadFn
    build: BuildFn
    render: RenderFn


def resolve_loader(module: str | None = None) -> LoadFn:
    """``load_definition`` from ``module`` if it has one, else reportgen's own."""
    custom = importlib.import_module(module) if module else None
    loader: LoadFn | None = getattr(custom, "load_definition", None)
    if loader is None:
        from reportgen.plan import load_definition

        return load_definition
    return loader


def resolve_pipeline(module: str | None = None) -> Pipeline:
    """reportgen's own pipeline, or the one in ``module`` (names it lacks fall back to ours).

    Imported on use, so scheduling and the ledger work without the rendering stack loaded.
    """
    custom = importlib.import_module(module) if module else None
    build = getattr(custom, "build_report", None)
    render = getattr(custom, "render_outputs", None)
    if build is None or render is None:
        from reportgen.run import build as builtin

        build = build or builtin.build_report
        render = render or builtin.render_outputs
    return Pipeline(load=resolve_loader(module), build=build, render=render)


def code_version() -> str:
    """The running reportgen version (recorded with every run)."""
    import reportgen

    version = getattr(reportgen, "__version__", None)
    if version:
        return str(version)
    try:
        return metadata.version("reportgen")
    except metadata.PackageNotFoundError:
        return "unknown"
