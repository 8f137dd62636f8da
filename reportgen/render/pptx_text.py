"""Text fitting for slides: measure with the master's font file, then wrap and shrink.

python-pptx cannot measure text and PowerPoint only re-applies "shrink text on
overflow" when someone edits the box, so the deck measures every line itself: the
master's theme font is looked up among the installed fonts (matplotlib's font manager
finds the file) and each candidate line is measured with Pillow
(``ImageFont.truetype(...).getlength``).  A greedy word wrap over those widths gives the
lines a box needs; sizes step down from the master's size to a floor.  Only text that
does not fit even at the floor (a pathological length) is cut, at a word boundary, with
an ellipsis, and the full text always goes to the notes.

``use_font`` sets the family for the duration of one deck; a family that is not
installed is measured with DejaVu Sans, which is wider than the usual UI fonts, so the
estimate errs towards room to spare.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from matplotlib import font_manager
from matplotlib.font_manager import FontProperties
from PIL import ImageFont
from pptx.util import Emu

LINE_HEIGHT = 1.2  # single spacing is ~1.2 x the font size in PowerPoint and LibreOffice
ELLIPSIS = "\u2026"
FALLBACK_FAMILY = "DejaVu Sans"
# Renderers differ a little in hinting and kerning; a line may use 97% of its box.
SAFETY = 0.97
_UNITS = 200  # fonts are loaded at this pixel size; widths scale linearly with size

_FAMILY: ContextVar[str] = ContextVar("deck_font_family", default="Inter")


@contextmanager
def use_font(family: str) -> Iterator[None]:
    """Measure text in ``family`` (the master's theme font) inside this block."""
    token = _FAMILY.set(family or _FAMILY.get())
    try:
        yield
    finally:
        _FAMILY.reset(token)


@lru_cache(maxsize=32)
def font_file(family: str, bold: bool = False) -> str:
    """The installed font file of ``family`` (DejaVu Sans when it is not installed)."""
    weight = "bold" if bold else "regular"
    try:
        return font_manager.findfont(FontProperties(family=family, weight=weight),
                                     fallback_to_default=False)
    except ValueError:
        return font_manager.findfont(FontProperties(family=FALLBACK_FAMILY, weight=weight))


@lru_cache(maxsize=32)
def _font(path: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, _UNITS)


def text_width_pt(text: str, size_pt: float, *, bold: bool = False) -> float:
    """Width of one line of ``text`` set at ``size_pt`` in the deck font, in points."""
    return _font(font_file(_FAMILY.get(), bold)).getlength(text) * size_pt / _UNITS


def _points(width: Emu | int) -> float:
    return Emu(width).pt * SAFETY


def wrap_text(text: str, width: Emu | int, size_pt: float, *, bold: bool = False) -> list[str]:
    """The lines a greedy word wrap gives ``text`` in a box ``width`` wide.

    Explicit newlines are kept; a word longer than the line is broken mid-word, as
    PowerPoint does.
    """
    room = _points(width)
    lines: list[str] = []
    for raw in text.split("\n"):
        current = ""
        for word in raw.split():
            candidate = f"{current} {word}" if current else word
            if text_width_pt(candidate, size_pt, bold=bold) <= room:
                current = candidate
                continue
            if current:
                lines.append(current)
            while len(word) > 1 and text_width_pt(word, size_pt, bold=bold) > room:
                cut = _longest_prefix(word, room, size_pt, bold)
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


def _longest_prefix(word: str, room: float, size_pt: float, bold: bool) -> int:
    low, high = 1, len(word)
    while low < high:  # the longest prefix that fits, at least one character
        mid = (low + high + 1) // 2
        if text_width_pt(word[:mid], size_pt, bold=bold) <= room:
            low = mid
        else:
            high = mid - 1
    return low


def wrapped_lines(text: str, width: Emu | int, size_pt: float, *, bold: bool = False) -> int:
    """How many lines ``text`` needs in a box ``width`` wide at ``size_pt``."""
    return len(wrap_text(text, width, size_pt, bold=bold))


def text_height_pt(paragraphs: Iterable[str], width: Emu | int, size_pt: float, *,
                   bold: bool = False, space_after_pt: float = 0.0) -> float:
    """Height of ``paragraphs`` set at ``size_pt`` in a box ``width`` wide."""
    height = 0.0
    for paragraph in paragraphs:
        lines = wrapped_lines(paragraph, width, size_pt, bold=bold)
        height += lines * size_pt * LINE_HEIGHT + space_after_pt
    return height


def choose_size(paragraphs: Sequence[str], width: Emu | int, height: Emu | int,
                sizes: Sequence[float], *, bold: bool = False,
                space_after: float = 0.0) -> float | None:
    """The largest of ``sizes`` (descending) at which ``paragraphs`` fit, or ``None``.

    ``space_after`` is the paragraph spacing as a fraction of the font size.
    """
    for size in sizes:
        needed = text_height_pt(paragraphs, width, size, bold=bold,
                                space_after_pt=size * space_after)
        if needed <= Emu(height).pt:
            return size
    return None


def ellipsize(text: str, max_chars: int) -> str:
    """Cut ``text`` to at most ``max_chars`` characters at a word boundary, with an ellipsis."""
    if len(text) <= max_chars:
        return text
    cut = text[: max(1, max_chars - 1)]
    mid_word = not text[len(cut)].isspace()
    if mid_word and " " in cut[max_chars // 2:]:  # back to the last whole word, if not too far
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-\u2013") + ELLIPSIS


def clamp_lines(text: str, width: Emu | int, size_pt: float, max_lines: int, *,
                bold: bool = False) -> str:
    """``text`` unchanged if it wraps to at most ``max_lines``, else cut with an ellipsis."""
    if wrapped_lines(text, width, size_pt, bold=bold) <= max_lines:
        return text
    flat = text.replace("\n", " ")
    low, high = 1, len(flat)
    while low < high:  # the longest cut that still fits
        mid = (low + high + 1) // 2
        if wrapped_lines(ellipsize(flat, mid), width, size_pt, bold=bold) <= max_lines:
            low = mid
        else:
            high = mid - 1
    candidate = ellipsize(flat, low)
    return candidate if wrapped_lines(candidate, width, size_pt, bold=bold) <= max_lines \
        else ELLIPSIS


def fit_paragraphs(paragraphs: Sequence[str], width: Emu | int, height: Emu | int,
                   sizes: Sequence[float], *, bold: bool = False,
                   space_after: float = 0.0) -> tuple[float, list[str]]:
    """A size from ``sizes`` and the paragraphs to set, cut only if the floor size overflows."""
    size = choose_size(paragraphs, width, height, sizes, bold=bold, space_after=space_after)
    if size is not None:
        return size, list(paragraphs)
    size = sizes[-1]
    line_pt = size * LINE_HEIGHT
    budget = Emu(height).pt
    kept: list[str] = []
    for paragraph in paragraphs:
        lines_left = math.floor((budget - size * space_after) / line_pt)
        if lines_left < 1:
            break
        needed = wrapped_lines(paragraph, width, size, bold=bold)
        kept.append(paragraph if needed <= lines_left
                    else clamp_lines(paragraph, width, size, lines_left, bold=bold))
        budget -= min(needed, lines_left) * line_pt + size * space_after
    if len(kept) < len(paragraphs) and kept:
        kept[-1] = ellipsize(kept[-1], max(2, len(kept[-1]) - 1))
    return size, kept
