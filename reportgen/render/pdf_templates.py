"""Template lookup and HTML generation for the PDF renderer.

The Monthly Quality Report is plain Jinja2 HTML + CSS in ``report_templates/mqr/``.  A
definition may name its own template folder; it is searched first, so an organisation can
replace one file (``base.css``, ``cover.html.j2``...) or extend the built-in entry template
through the ``builtin/`` prefix (``{% extends "builtin/report.html.j2" %}``) and override
just one block.  Nothing here computes a number: templates place the model's strings.

Templates come with definitions, so they are untrusted: they run in Jinja's sandbox (no
attribute walk from a value to ``__globals__`` and ``os``), and every template file is
resolved, symlinks included, and must lie inside the folder it was looked up in.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
from markupsafe import Markup

from reportgen import text
from reportgen.errors import RenderError, TemplateError
from reportgen.render.templates import builtin_templates
from reportgen.report.model.report_model import ReportModel, Theme
from reportgen.report.model.sections import Figure
from reportgen.text.dates import timestamp
from reportgen.text.truncate import footnoted, shorten

#: The entry template every report starts from.
ENTRY_TEMPLATE = "report.html.j2"

#: Prefix under which the built-in templates stay reachable from an override folder.
BUILTIN_PREFIX = "builtin"

# How a metric's target status maps onto the theme's tones (the pill colour).
STATUS_TONES: Mapping[str, str] = {
    "on_target": "good",
    "at_risk": "warning",
    "off_target": "bad",
}

# Colours go into CSS custom properties verbatim, so only plain colour syntax is accepted:
# a theme value must never be able to close the declaration and inject rules.
_COLOUR = re.compile(r"^(#[0-9A-Fa-f]{3,8}|[A-Za-z]{3,30}|(rgb|rgba|hsl|hsla)\([0-9.,%\s]+\))$")
_FONT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{0,60}$")


def builtin_template_dir() -> Path:
    """Return the built-in ``report_templates/mqr`` folder, or raise a clear RenderError."""
    folder = builtin_templates("mqr")
    if not (folder / ENTRY_TEMPLATE).is_file():
        raise RenderError(f"built-in PDF templates are incomplete: {folder / ENTRY_TEMPLATE} "
                          "is missing; reinstall reportgen")
    return folder


def template_search_path(template_dir: Path | None) -> tuple[Path, ...]:
    """The folders templates and stylesheets are looked up in, most specific first."""
    builtin = builtin_template_dir()
    if template_dir is None:
        return (builtin,)
    custom = Path(template_dir).resolve()
    if not custom.is_dir():
        raise TemplateError(f"template folder {custom} does not exist or is not a folder")
    return (custom, builtin) if custom != builtin else (builtin,)


def find_asset(name: str, search_path: Sequence[Path]) -> Path:
    """Return the first file called ``name`` in the search path (custom before built-in)."""
    for folder in search_path:
        candidate = (folder / name).resolve()
        # A template may only reach files inside its own folders.
        if candidate.is_file() and candidate.is_relative_to(folder):
            return candidate
    searched = ", ".join(str(f) for f in search_path)
    raise RenderError(f"template asset '{name}' not found in {searched}")


class ConfinedFileSystemLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that refuses a template whose real path leaves its folder.

    Jinja already refuses ``..`` in template names; a symlink inside the folder is the
    other way out, so the file found is resolved and checked before it is used.
    """

    def __init__(self, folder: Path):
        super().__init__(str(folder))
        self.folder = Path(folder).resolve()

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Any]:
        source, filename, uptodate = super().get_source(environment, template)
        real = Path(filename).resolve()
        if not real.is_relative_to(self.folder):
            raise TemplateError(f"template '{template}' in {self.folder} leads to {real}, "
                              f"outside the template folder; templates may only use files "
                              f"inside their folder")
        return source, filename, uptodate


def confined_stylesheet(sheet: Path) -> Path:
    """The real path of a stylesheet, which must lie in the folder it is named in."""
    folder = Path(sheet).absolute().parent.resolve()
    path = Path(sheet).resolve()
    if not path.is_relative_to(folder):
        raise TemplateError(f"stylesheet {sheet} leads to {path}, outside its folder {folder}")
    return path


def build_environment(search_path: Sequence[Path]) -> jinja2.Environment:
    """A sandboxed Jinja2 environment that autoescapes and fails on any undefined name."""
    loaders: list[jinja2.BaseLoader] = [ConfinedFileSystemLoader(f) for f in search_path]
    loaders.append(jinja2.PrefixLoader({BUILTIN_PREFIX: ConfinedFileSystemLoader(
        search_path[-1])}))
    env = jinja2.sandbox.SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["asset_url"] = lambda name: find_asset(name, search_path).as_uri()
    env.globals["status_tone"] = lambda status: STATUS_TONES.get(status or "", "neutral")
    env.filters["svg_data_uri"] = svg_data_uri
    env.filters["datetime_text"] = timestamp
    env.filters["iso_datetime"] = iso_datetime
    # long cell texts: cut with an ellipsis and a mark, the full text in a footnote
    env.filters["footnoted"] = lambda table: footnoted([[c.text for c in row] for row in table.rows])
    env.filters["shorten"] = shorten
    return env


def render_html(
    model: ReportModel,
    search_path: Sequence[Path],
    stylesheets: Sequence[Path] = (),
) -> str:
    """Fill the entry template with ``model``; Jinja errors become RenderError."""
    env = build_environment(search_path)
    extra = []
    for sheet in stylesheets:
        path = confined_stylesheet(sheet)
        if not path.is_file():
            raise TemplateError(f"stylesheet {path} does not exist")
        extra.append(path.as_uri())
    css = theme_css(model.theme)
    try:
        template = env.get_template(ENTRY_TEMPLATE)
        return template.render(model=model, theme_css=css, extra_stylesheets=extra)
    except RenderError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"PDF template error: {exc.filename or exc.name}:{exc.lineno}: {exc.message}"
        ) from exc
    except jinja2.sandbox.SecurityError as exc:
        raise TemplateError(f"PDF template refused: {_template_location(exc)}{exc} (templates "
                          f"run sandboxed and may only place the report's values)") from exc
    except Exception as exc:  # undefined names, bad filters, type errors in a template
        raise TemplateError(f"PDF template error: {_template_location(exc)}{exc}") from exc


def _template_location(exc: BaseException) -> str:
    """``file:line: `` of the innermost template frame of ``exc``, if any.

    Jinja maps template code onto traceback frames named after the template file, so the
    line a broken override fails on can be named without re-parsing anything.
    """
    location = ""
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".j2", ".html", ".jinja")):
            location = f"{filename}:{tb.tb_lineno}: "
        tb = tb.tb_next
    return location


def theme_css(theme: Theme) -> Markup:
    """CSS custom properties for the theme, the only values the stylesheet takes from data."""
    colours = {
        "primary": theme.primary,
        "accent": theme.accent,
        "good": theme.good,
        "bad": theme.bad,
        "warning": theme.warning,
        "neutral": theme.neutral,
    }
    colours.update({f"palette-{i + 1}": c for i, c in enumerate(theme.palette)})
    for name, value in colours.items():
        if not _COLOUR.match(value.strip()):
            raise TemplateError(f"theme colour '{name}': expected a CSS colour such as "
                              f"'#1F3A5F', got {value!r}")
    if not _FONT_NAME.match(theme.font_family.strip()):
        raise TemplateError(f"theme font_family: expected a font name such as 'Inter', "
                          f"got {theme.font_family!r}")
    lines = [f"  --{name}: {value.strip()};" for name, value in colours.items()]
    # Text in a theme colour, and a label on a theme-coloured fill, as the text authority
    # makes them readable (WCAG AA): the fills and rules keep the theme's own colours.
    for name in ("primary", "accent", "good", "bad", "warning", "neutral"):
        lines.append(f"  --{name}-ink: {text.readable(colours[name].strip())};")
        lines.append(f"  --{name}-on: {text.ink_on(colours[name].strip())};")
    lines.append(f'  --font-family: "{theme.font_family.strip()}";')
    # Safe: every interpolated value was checked against a strict pattern above.
    return Markup(":root {\n" + "\n".join(lines) + "\n}")


def svg_data_uri(figure: Figure) -> str:
    """The figure's SVG as a ``data:`` URI for an ``<img>``, so it stays vector in the PDF.

    An ``<img>`` rather than an inline ``<svg>`` element: inline, every SVG node joins the
    HTML document, so WeasyPrint's CSS cascade rejects each SVG ``style`` attribute with a
    warning and charts that share element ids (matplotlib reuses ``patch_1``...) collide
    as duplicate anchors.  As an image the SVG is parsed on its own, and the ``alt``
    attribute becomes the figure's alternate text in the tagged PDF.
    """
    if "<svg" not in figure.svg:
        raise RenderError(f"figure '{figure.id}': its SVG has no <svg> element")
    encoded = base64.b64encode(figure.svg.encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


def iso_datetime(value: datetime) -> str:
    """The W3C date-time WeasyPrint writes into the PDF's creation date."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="seconds")
