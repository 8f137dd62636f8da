"""The one status palette: a target status's label, tone and colour, for every output.

The PDF (pill and tile border), the deck (scorecard fill), the e-mail (badge) and the
charts (bar colours) all read a status here; colours come from the report's theme, so a
definition that re-themes good/bad/warning re-themes them everywhere at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reportgen.report.model.metric_results import Status, Tone
from reportgen.report.model.report_model import Theme


@dataclass(frozen=True)
class StatusStyle:
    """How a status reads: its label and the tone its colour comes from."""

    label: str
    tone: Tone


STATUSES: Mapping[str, StatusStyle] = {
    "on_target": StatusStyle("On target", "good"),
    "at_risk": StatusStyle("At risk", "warning"),
    "off_target": StatusStyle("Off target", "bad"),
}

#: The default theme, for content stored before colours were part of it.
DEFAULT_THEME = Theme()


def status_label(status: Status | str | None) -> str:
    """``On target``, ``At risk``, ``Off target``; empty when there is no target."""
    style = STATUSES.get(status or "")
    return style.label if style else ""


def status_tone(status: Status | str | None) -> Tone:
    """The tone of a status (neutral when there is none)."""
    style = STATUSES.get(status or "")
    return style.tone if style else "neutral"


def tone_colour(tone: Tone | str | None, theme: Theme = DEFAULT_THEME) -> str:
    """The theme colour of a tone (``#1A7F4B`` for good by default)."""
    return {"good": theme.good, "bad": theme.bad, "warning": theme.warning}.get(
        tone or "", theme.neutral)


def status_colour(status: Status | str | None, theme: Theme = DEFAULT_THEME) -> str:
    """The colour a status is drawn in; neutral when there is no target."""
    return tone_colour(status_tone(status), theme)
