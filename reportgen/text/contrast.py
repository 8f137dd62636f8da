"""Colours a reader can read: a theme colour used for text is darkened, its hue kept, until
it meets WCAG 2's contrast for body text (AA, 4.5:1) on the palest tint a report puts
behind coloured text; text on a coloured fill is white or black, whichever reads.

WCAG 2 defines contrast from relative luminance in a few lines; no library the project
uses offers it (matplotlib parses colours but does not weigh them), so it is written here.
"""

from __future__ import annotations

import re

#: WCAG 2 AA's minimum contrast for body text
READABLE = 4.5
#: the palest tint behind coloured text in a report (a finding's wash); a colour that
#: reads on it reads on white too
PAPER_TINT = "#F4F6F9"
WHITE, BLACK = "#FFFFFF", "#000000"

_HEX = re.compile(r"^#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")


def _rgb(colour: str) -> tuple[float, float, float] | None:
    match = _HEX.match(colour.strip())
    if match is None:
        return None
    digits = match[1] if len(match[1]) == 6 else "".join(c * 2 for c in match[1])
    r, g, b = (int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def _luminance(rgb: tuple[float, float, float]) -> float:
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(colour: str, background: str) -> float | None:
    """WCAG 2's contrast ratio of two ``#RRGGBB`` colours (1 to 21); None for a colour
    written another way."""
    a, b = _rgb(colour), _rgb(background)
    if a is None or b is None:
        return None
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable(colour: str, on: str = PAPER_TINT, ratio: float = READABLE) -> str:
    """``colour`` as text on ``on``: unchanged when it reads at ``ratio`` already, else
    darkened towards black (its hue kept) just enough; a colour not written ``#RRGGBB`` is
    left as it is."""
    rgb = _rgb(colour)
    found = contrast(colour, on)
    if rgb is None or found is None or found >= ratio:
        return colour
    for step in range(1, 101):
        kept = 1 - step / 100
        darker = "#" + "".join(f"{round(c * kept * 255):02X}" for c in rgb)
        if (contrast(darker, on) or 0) >= ratio:
            return darker
    return BLACK


def ink_on(fill: str, ratio: float = READABLE) -> str:
    """The text colour for a label on ``fill``: white when it reads, else black (whichever
    reads better when neither does)."""
    on_white, on_black = contrast(WHITE, fill), contrast(BLACK, fill)
    if on_white is None or on_black is None or on_white >= ratio:
        return WHITE
    return BLACK if on_black >= on_white else WHITE
