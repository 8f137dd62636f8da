"""The scorecard as an e-mail carries it: one HTML table and plain-text lines.

Taken from the model's scorecard when the run succeeds and stored with the mail content, so
a resend repeats it.  Trends are the sparklines' block glyphs (``▂▃▅▇``), not images: mail
clients block SVG and many hold back images until the reader allows them, while text always
shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reportgen.report.model.scorecard import Scorecard


@dataclass(frozen=True)
class MailScorecardCell:
    """One KPI of one segment, as display strings and the colours the report drew."""

    value_text: str
    change_text: str = ""
    status_text: str = ""
    status_colour: str = ""
    change_colour: str = ""
    trend: str = ""


@dataclass(frozen=True)
class MailScorecardRow:
    label: str
    cells: tuple[MailScorecardCell, ...]


@dataclass(frozen=True)
class MailScorecard:
    """Segments against headline KPIs (see ``reportgen.report.model.scorecard``)."""

    title: str
    by_label: str
    columns: tuple[str, ...]
    rows: tuple[MailScorecardRow, ...]
    note: str = ""
    #: the scorecard in one sentence, as the Slack and Teams posts carry it
    line: str = ""

    @classmethod
    def from_model(cls, card: Scorecard) -> MailScorecard:
        return cls(
            title=card.title, by_label=card.by_label,
            columns=tuple(c.label for c in card.columns),
            rows=tuple(MailScorecardRow(row.label, tuple(
                MailScorecardCell(c.value_text, c.change_text, c.status_text, c.status_colour,
                                  c.change_colour, c.sparkline.glyphs if c.sparkline else "")
                for c in row.cells)) for row in card.rows),
            note=" ".join(n for n in (card.note, card.glyph_note) if n), line=card.line)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MailScorecard:
        values = dict(data)
        values["columns"] = tuple(values.get("columns", ()))
        values["rows"] = tuple(
            MailScorecardRow(row["label"], tuple(MailScorecardCell(**c) for c in row["cells"]))
            for row in values.get("rows", ()))
        return cls(**values)


def scorecard_lines(card: MailScorecard) -> list[str]:
    """The plain-text scorecard, one line per segment:
    ``Billing: CSAT 71.8% (−11.7 pts *) Off target ▇▆█▁; QA score 82.0 ...``."""
    lines = []
    for row in card.rows:
        parts = []
        for label, cell in zip(card.columns, row.cells, strict=True):
            part = f"{label} {cell.value_text}"
            if cell.change_text:
                part += f" ({cell.change_text})"
            if cell.status_text:
                part += f" {cell.status_text}"
            if cell.trend:
                part += f" {cell.trend}"
            parts.append(part)
        lines.append(f"{row.label}: " + "; ".join(parts))
    return lines


# Mail clients ignore stylesheets: every style is inline, and layout is tables.
SCORECARD_HTML = """\
{%- macro scorecard(card) -%}
<tr><td style="padding: 16px 24px 4px;">
<div style="font-size: 16px; font-weight: bold; margin-bottom: 6px;">{{ card.title }}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse: collapse; font-size: 13px;">
<tr>
  <th align="left" style="padding: 6px 6px; border-bottom: 2px solid #d9dee4; font-size: 12px; color: #5f6b7a;">{{ card.by_label }}</th>
  {% for label in card.columns %}<th align="right" style="padding: 6px 6px; border-bottom: 2px solid #d9dee4; font-size: 12px; color: #5f6b7a;">{{ label }}</th>{% endfor %}
</tr>
{% for row in card.rows %}<tr>
  <td style="padding: 6px; border-bottom: 1px solid #eceff2; vertical-align: top;">{{ row.label }}</td>
  {% for cell in row.cells %}<td align="right" style="padding: 6px; border-bottom: 1px solid #eceff2; vertical-align: top; white-space: nowrap;">
    <strong>{{ cell.value_text }}</strong>
    {%- if cell.change_text %}<br><span style="font-size: 12px; color: {{ cell.change_colour or '#5f6b7a' }};">{{ cell.change_text }}</span>{% endif %}
    {%- if cell.status_text %}<br><span style="background: {{ cell.status_colour }}; color: #ffffff; border-radius: 10px; padding: 1px 6px; font-size: 11px;">{{ cell.status_text }}</span>{% endif %}
    {%- if cell.trend %}<br><span style="font-size: 11px; color: #5f6b7a; letter-spacing: -1px;">{{ cell.trend }}</span>{% endif %}
  </td>{% endfor %}
</tr>{% endfor %}
</table>
{% if card.note %}<p style="margin: 6px 0 0; font-size: 12px; color: #5f6b7a;">{{ card.note }}</p>{% endif %}
</td></tr>
{%- endmacro -%}
"""
