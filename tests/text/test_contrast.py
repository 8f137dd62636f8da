"""Theme colours as readable text: WCAG 2's contrast ratio, a colour darkened just enough to
read at 4.5:1 on the report's palest tint, and white or black for a label on a fill."""

from __future__ import annotations

import colorsys

import pytest

from reportgen import text


def test_the_contrast_ratio_is_wcags():
    assert text.contrast("#FFFFFF", "#000000") == pytest.approx(21)
    assert text.contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # WCAG's own
    assert text.contrast("#fff", "#FFFFFF") == pytest.approx(1)
    assert text.contrast("rebeccapurple", "#FFFFFF") is None


@pytest.mark.parametrize("colour", ["#B7791F", "#2A9D8F", "#F7DC6F", "#A9CCE3", "#8A94A3"])
def test_a_faint_colour_is_darkened_just_enough_keeping_its_hue(colour):
    ink = text.readable(colour)
    assert text.contrast(ink, text.PAPER_TINT) >= 4.5
    assert text.contrast(ink, "#FFFFFF") >= 4.5
    assert text.contrast(ink, text.PAPER_TINT) < 4.7  # just enough: not pushed to black

    def hue(hex_colour):
        rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        return colorsys.rgb_to_hls(*rgb)[0]

    assert hue(ink) == pytest.approx(hue(colour), abs=0.01)


def test_a_colour_that_reads_already_is_kept_and_a_label_takes_white_or_black():
    assert text.readable("#1F3A5F") == "#1F3A5F"
    assert text.readable("#C0392B") == "#C0392B"
    assert text.ink_on("#1F3A5F") == "#FFFFFF"
    assert text.ink_on("#B7791F") == "#000000"  # white on amber is 3.6:1, black 5.9:1
    assert text.contrast(text.ink_on("#F7DC6F"), "#F7DC6F") >= 4.5
