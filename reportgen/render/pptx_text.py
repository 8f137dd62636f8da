"""Text fitting for slides: pick font sizes that cannot overflow their boxes.

python-pptx cannot measure text (that needs the font file and a layout engine), and
PowerPoint only re-applies "shrink text on overflow" when someone edits the box.  So we
estimate: a greedy word wrap with a deliberately wide average glyph width (0.55 em for
regular, 0.6 em for bold text; Inter, Calibri and Arial average 0.48-0.52 em on mixed
case).  Over-estimating wastes a little space; under-estimating would spill text over
the footer, which is the failure a reader notices.  Sizes step down from the master's
size to a floor; only text that does not fit even at the floor (a pathological length) is
cut, at a word boundary, with an ellipsis, and the full text always goes to the notes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from pptx.util import Emu

REGULAR_EM = 0.55
BOLD_EM = 0.60
LINE_HEIGHT = 1.2  # single spacing is ~1.2 x the font size in PowerPoint and LibreOffice
ELLIPSIS = "\u2026"


def chars_per_line(width: Emu | int, size_pt: float, em: float = REGULAR_EM) -> int:
    """How many average characters fit on one line of ``width`` at ``size_pt``."""
    return max(1, math.floor(Emu(width).pt / (size_pt * em)))


def wrapped_lines(text: str, per_line: int) -> int:
    """Lines a greedy word wrap needs for ``text`` (explicit newlines respected)."""
    total = 0
    for raw in text.split("\n") or [""]:
        lines, used = 1, 0
        for word in raw.split():
            # A word longer than a line is broken by the renderer, mid-word.
            length = len(word)
            needed = length if used == 0 else used + 1 + length
            if needed <= per_line:
                used = needed
                continue
            if used:
                lines += 1
            lines += (length - 1) // per_line
            used = length % per_line or per_line
        total += lines
    return total


def text_height_pt(paragraphs: Iterable[str], width: Emu | int, size_pt: float, *,
                   em: float = REGULAR_EM, space_after_pt: float = 0.0) -> float:
    """Estimated height of ``paragraphs`` set at ``size_pt`` in a box ``width`` wide."""
    per_line = chars_per_line(width, size_pt, em)
    height = 0.0
    for paragraph in paragraphs:
        height += wrapped_lines(paragraph, per_line) * size_pt * LINE_HEIGHT + space_after_pt
    return height


def choose_size(paragraphs: Sequence[str], width: Emu | int, height: Emu | int,
                sizes: Sequence[float], *, em: float = REGULAR_EM,
                space_after: float = 0.0) -> float | None:
    """The largest of ``sizes`` (descending) at which ``paragraphs`` fit, or ``None``.

    ``space_after`` is the paragraph spacing as a fraction of the font size.
    """
    for size in sizes:
        needed = text_height_pt(paragraphs, width, size, em=em, space_after_pt=size * space_after)
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
                em: float = REGULAR_EM) -> str:
    """``text`` unchanged if it wraps to at most ``max_lines``, else cut with an ellipsis."""
    per_line = chars_per_line(width, size_pt, em)
    if wrapped_lines(text, per_line) <= max_lines:
        return text
    budget = per_line * max_lines
    while budget > 1:
        candidate = ellipsize(text.replace("\n", " "), budget)
        if wrapped_lines(candidate, per_line) <= max_lines:
            return candidate
        budget -= max(1, per_line // 4)
    return ELLIPSIS


def fit_paragraphs(paragraphs: Sequence[str], width: Emu | int, height: Emu | int,
                   sizes: Sequence[float], *, em: float = REGULAR_EM,
                   space_after: float = 0.0) -> tuple[float, list[str]]:
    """A size from ``sizes`` and the paragraphs to set, cut only if the floor size overflows."""
    size = choose_size(paragraphs, width, height, sizes, em=em, space_after=space_after)
    if size is not None:
        return size, list(paragraphs)
    size = sizes[-1]
    line_pt = size * LINE_HEIGHT
    budget = Emu(height).pt
    kept: list[str] = []
    per_line = chars_per_line(width, size, em)
    for paragraph in paragraphs:
        lines_left = math.floor((budget - size * space_after) / line_pt)
        if lines_left < 1:
            break
        needed = wrapped_lines(paragraph, per_line)
        kept.append(paragraph if needed <= lines_left
                    else clamp_lines(paragraph, width, size, lines_left, em=em))
        budget -= min(needed, lines_left) * line_pt + size * space_after
    if len(kept) < len(paragraphs) and kept:
        kept[-1] = ellipsize(kept[-1], max(2, len(kept[-1]) - 1))
    return size, kept


