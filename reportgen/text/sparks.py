"""A series as a line of block glyphs (``▁▃▅█``): the sparkline of plain-text outputs.

E-mail clients block images and SVG, so the e-mail writes a trend as text; these glyphs
are in the fonts mail clients use (Arial and Helvetica fall back to a system font for
them) and read as a line in a monospaced or proportional font alike.
"""

from __future__ import annotations

from collections.abc import Sequence

#: eight heights, lowest first
GLYPHS = "▁▂▃▄▅▆▇█"
#: a period with no value shown
GAP = "·"


def spark_glyphs(values: Sequence[float | None]) -> str:
    """One glyph per value, scaled between the series' lowest and highest value (a flat
    series sits at the middle height); missing values are ``·``."""
    shown = [v for v in values if v is not None]
    if not shown:
        return ""
    low, high = min(shown), max(shown)
    out = []
    for v in values:
        if v is None:
            out.append(GAP)
        elif high == low:
            out.append(GLYPHS[len(GLYPHS) // 2 - 1])
        else:
            out.append(GLYPHS[round((v - low) / (high - low) * (len(GLYPHS) - 1))])
    return "".join(out)
