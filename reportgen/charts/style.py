"""The one chart look (fonts, colours, grid) and turning a drawing into a report Figure.

Every builder draws inside :func:`themed`, which applies the theme as matplotlib rc
settings and holds a lock: rcParams are process-global, so two threads drawing at once
would otherwise see each other's settings.  Figures are ``matplotlib.figure.Figure``
objects, never pyplot state, so nothing outlives a build.
"""

from __future__ import annotations

import io
import textwrap
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Literal
from xml.sax.saxutils import escape

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure as MplFigure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import FancyBboxPatch
from matplotlib.rcsetup import cycler
from matplotlib.typing import RcKeyType

from reportgen.charts.base import ChartRequest
from reportgen.charts.ink import GRID, INK, MUTED, NO_DATA_FILL, SPINE  # noqa: F401 (re-exported)
from reportgen.report.model.report_model import Theme
from reportgen.report.model.sections import Figure, NativeChart
from reportgen.text.truncate import shorten

WIDTH_IN = 6.7  # the text width of an A4 page with the report margins
HEIGHT_IN = 3.0
PNG_DPI = 200
FALLBACK_FONT = "DejaVu Sans"


FONT_SIZE = 8.0
SMALL = 7.0
TINY = 6.3

_LOCK = threading.RLock()

GridAxis = Literal["x", "y", "both"]  # the value axis that gets grid lines


@lru_cache(maxsize=16)
def _installed(family: str) -> bool:
    try:
        font_manager.findfont(FontProperties(family=family), fallback_to_default=False)
    except ValueError:
        return False
    return True


# Per-glyph fallbacks after the theme font and DejaVu Sans: Arabic and Hebrew letters and
# symbols and emoji (as outlines; matplotlib cannot draw colour bitmap fonts).  Data values
# such as queue names and review titles contain them.
GLYPH_FALLBACKS = ("Noto Sans Arabic", "Noto Sans Hebrew", "Symbola")


def font_families(theme: Theme) -> list[str]:
    """The theme font if installed, then DejaVu Sans and the glyph fallbacks installed."""
    families = [f for f in (theme.font_family, "Inter") if _installed(f)][:1]
    if FALLBACK_FONT not in families:
        families.append(FALLBACK_FONT)
    return [*families, *(f for f in GLYPH_FALLBACKS if _installed(f))]


def strong(theme: Theme, size: float = FONT_SIZE) -> FontProperties:
    """Semibold text in the theme font, for the values a reader should see first."""
    # One family only: a weight lookup across the fallback list logs a warning for
    # DejaVu Sans, which has no semibold face.
    return FontProperties(family=font_families(theme)[0], weight="semibold", size=size)


def _rc(theme: Theme) -> dict[RcKeyType, Any]:
    return {
        "font.family": font_families(theme),
        "font.size": FONT_SIZE,
        "text.color": INK,
        "axes.labelcolor": INK,
        "axes.labelsize": FONT_SIZE,
        "axes.edgecolor": SPINE,
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "axes.prop_cycle": cycler(color=list(theme.palette)),
        "grid.color": GRID,
        "grid.linewidth": 0.6,
        "xtick.color": SPINE,
        "ytick.color": SPINE,
        "xtick.labelcolor": MUTED,
        "ytick.labelcolor": MUTED,
        "xtick.labelsize": SMALL,
        "ytick.labelsize": SMALL,
        "xtick.major.size": 0,
        "ytick.major.size": 0,
        "xtick.major.pad": 4,
        "ytick.major.pad": 4,
        "legend.frameon": False,
        "legend.fontsize": SMALL,
        "legend.handlelength": 1.4,
        "legend.columnspacing": 1.2,
        "lines.linewidth": 1.8,
        "lines.markersize": 4.5,
        "hatch.color": "#C5CAD1",
        "hatch.linewidth": 0.6,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
        # Text stays text in the SVG: selectable and searchable in the PDF, and the file
        # is a third of the size.  WeasyPrint draws it with the same installed font.
        "svg.fonttype": "none",
        # Stable element ids, so the same data gives byte-identical SVG.
        "svg.hashsalt": "reportgen",
        "path.simplify": True,
    }


@contextmanager
def themed(theme: Theme) -> Iterator[None]:
    """Draw and save with the theme's rc settings, one chart at a time per process."""
    with _LOCK, matplotlib.rc_context(_rc(theme)), warnings.catch_warnings():
        # A character no installed font has is drawn as the font's empty box, a visible
        # placeholder; the report must not fail over one emoji in a queue name.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font",
                                category=UserWarning)
        yield


def new_figure(width_in: float = WIDTH_IN, height_in: float = HEIGHT_IN) -> MplFigure:
    """A figure with constrained layout: labels are never clipped at the edges."""
    layout = ConstrainedLayoutEngine(w_pad=0.06, h_pad=0.06, wspace=0.02, hspace=0.02)
    return MplFigure(figsize=(width_in, height_in), layout=layout)


def height_for(rows: int, per_row: float = 0.26, base: float = 0.9,
               low: float = HEIGHT_IN, high: float = 7.5) -> float:
    """A figure height that gives each row room, on a 0.05 in grid (whole PNG pixels)."""
    height = min(max(base + per_row * rows, low), high)
    return round(height * 20) / 20


def style_axes(ax: Axes, grid_axis: GridAxis = "y") -> None:
    """Light grid on the value axis only, no box."""
    ax.grid(False)
    ax.grid(True, axis=grid_axis)
    if grid_axis == "x":
        ax.spines["left"].set_visible(True)
        ax.spines["bottom"].set_visible(False)
    else:
        ax.spines["left"].set_visible(False)


def tint(colour: str, amount: float) -> tuple[float, float, float]:
    """``colour`` mixed with white: amount 0 is the colour, 1 is white."""
    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def text_colour_on(fill: Any) -> str:
    """Ink or white, whichever reads better on ``fill`` (WCAG relative luminance)."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in to_rgb(fill))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "white" if luminance < 0.36 else INK


def wrap(label: str, width: int = 16, lines: int = 2) -> str:
    """A category label wrapped onto at most ``lines`` lines, shortened with an ellipsis."""
    # textwrap keeps a word longer than a line whole (a 100,000-character name would run
    # off the figure): such a label is cut to what its lines hold, mid-word if need be
    long_word = any(len(word) > width * lines for word in label.split())
    if long_word:
        label = shorten(label, width * lines)
    wrapped = textwrap.wrap(label, width, max_lines=lines, placeholder="…",
                            break_long_words=long_word)
    return "\n".join(wrapped) or label


def value_padding(low: float, high: float, unit: str,
                  fraction: float = 0.08) -> tuple[float, float]:
    """Axis limits around [low, high] that never collapse to zero height."""
    span = high - low
    if span <= 1e-12:
        # All values equal: give the axis a readable height around the value.
        span = max(abs(high) * 0.1, 0.02 if unit == "percent" else 1.0)
        return low - span / 2, high + span / 2
    return low - span * fraction, high + span * fraction


def _svg_with_title(svg: str, title: str, description: str) -> str:
    # <title>/<desc> make the inline SVG accessible and searchable in the PDF.
    start = svg.find("<svg")
    end = svg.find(">", start)
    if start < 0 or end < 0:
        return svg
    head = f"\n <title>{escape(title)}</title>\n <desc>{escape(description)}</desc>"
    return svg[: end + 1] + head + svg[end + 1 :]


def finish(
    fig: MplFigure,
    request: ChartRequest,
    kind: str,
    *,
    alt_text: str,
    data: Mapping[str, Sequence[Any]],
    caption: str = "",
    native: NativeChart | None = None,
) -> Figure:
    """Save ``fig`` as SVG, and as 200 dpi PNG when the request asks for it, and wrap it
    with its text and data."""
    width_in, height_in = (float(v) for v in fig.get_size_inches())
    svg_buffer, png_buffer = io.StringIO(), io.BytesIO()
    try:
        fig.savefig(svg_buffer, format="svg", metadata={"Date": None})
        if request.raster:
            # Freeze the layout the SVG got: the PNG then shares it (positions are figure
            # fractions, so 200 dpi matches) and the layout solver runs once, not twice.
            fig.set_layout_engine("none")
            fig.savefig(png_buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    finally:
        fig.clear()
    return Figure(
        id=request.id,
        title=request.title,
        kind=kind,
        svg=_svg_with_title(svg_buffer.getvalue(), request.title, alt_text),
        png=png_buffer.getvalue(),
        alt_text=alt_text,
        data={name: tuple(values) for name, values in data.items()},
        caption=caption,
        native=native,
        width_in=width_in,
        height_in=height_in,
    )


def no_data_figure(request: ChartRequest, kind: str, what: str,
                   message: str = "", note: str = "", caption: str = "") -> Figure:
    """A placeholder figure saying there is nothing to draw, instead of failing the report.

    The panel reads "No data for <what> in <period>" unless ``message`` says otherwise;
    ``note`` (e.g. which segments were suppressed) is appended to the caption, which is
    the message unless ``caption`` (a fuller sentence than the panel's) is given.
    """
    message = message or f"No data for {what} in {request.period_label}"
    with themed(request.theme):
        fig = new_figure(WIDTH_IN, 1.6)
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.add_patch(FancyBboxPatch(
            (0.01, 0.05), 0.98, 0.9, boxstyle="round,pad=0,rounding_size=0.04",
            transform=ax.transAxes, facecolor=NO_DATA_FILL, edgecolor="none"))
        ax.text(0.5, 0.58 if note else 0.5, message, transform=ax.transAxes, ha="center",
                va="center", fontproperties=strong(request.theme, 10), color=MUTED)
        if note:
            ax.text(0.5, 0.34, wrap(note, 110, 2), transform=ax.transAxes, ha="center",
                    va="center", fontsize=SMALL, color=MUTED)
        return finish(
            fig, request, kind,
            alt_text=f"{message}.",
            data={}, caption=caption or f"{message}. {note}".strip(),
        )


# A target that would squeeze the data into less than this share of the value axis is
# named in a note instead of drawn: a 60-minute target must not flatten a 4-minute trend.
MIN_DATA_SHARE = 0.25


def target_on_scale(target: float | None, values: Sequence[float], *,
                    zero_based: bool = False) -> bool:
    """Whether drawing ``target`` leaves the data at least ``MIN_DATA_SHARE`` of the axis.

    ``zero_based`` for bars, whose axis includes zero whatever the target.
    """
    if target is None or not values:
        return target is not None
    low, high = min(values), max(values)
    if zero_based:
        low, high = min(low, 0.0), max(high, 0.0)
    span = high - low
    wider = max(high, target) - min(low, target)
    if wider <= 0:
        return True
    if span <= 1e-12:  # one value: judge by how far the target is relative to it
        span = max(abs(high) * 0.1, 1e-9)
    return span / wider >= MIN_DATA_SHARE


def off_scale_note(target: float, values: Sequence[float], formatted: str) -> str:
    """The note that replaces a target line drawn off the data's scale."""
    where = "above" if target > max(values) else "below"
    return f"Target {formatted} not drawn: every value is far {where} the axis."


def data_limits(low: float, high: float, unit: str, *, fraction: float,
                include_zero: bool = False) -> tuple[float, float]:
    """Value-axis limits around the drawn values [low, high].

    The padding never pushes the axis below zero when every value is positive (rates and
    counts cannot be negative), but negative values (an NPS of -12) always stay on the
    axis, and percentages stop at 100%.  ``include_zero`` for counts, whose axis must start
    at zero so that heights compare honestly.
    """
    if include_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    padded_low, padded_high = value_padding(low, high, unit, fraction=fraction)
    if low >= 0.0:
        padded_low = max(padded_low, 0.0)
    if include_zero and low >= 0.0:
        padded_low = 0.0
    if unit == "percent" and high <= 1.0:
        padded_high = min(padded_high, 1.0)
    return padded_low, padded_high
