"""What a report e-mail says: the headline of one run, and its HTML and plain-text bodies.

``MailContent`` is taken from the ``ReportModel`` once, when the run succeeds, and stored
with the run in the ledger; a later resend reads it back from there, so it repeats the
message that was sent rather than a rebuild from data that may have changed since.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import jinja2

from reportgen import text
from reportgen.delivery.scorecard_mail import SCORECARD_HTML, MailScorecard, scorecard_lines
from reportgen.report.model.report_model import ReportModel


@dataclass(frozen=True)
class KpiLine:
    """One headline KPI as the report shows it (display strings only)."""

    label: str
    value_text: str
    delta_text: str
    status_text: str
    status: str = ""  # on_target / at_risk / off_target: colours the status
    delta_tone: str = "neutral"  # good / bad / neutral: colours the change
    # The colours the report drew them in (empty in content stored before they were kept:
    # the palette then colours them from status and tone with the default theme).
    status_colour: str = ""
    delta_colour: str = ""
    #: the tile's sparkline as block glyphs (``▂▃▅▇``; empty without a history)
    trend: str = ""

    @property
    def status_fill(self) -> str:
        return self.status_colour or text.status_colour(self.status)

    @property
    def delta_ink(self) -> str:
        return self.delta_colour or text.tone_colour(self.delta_tone)


@dataclass(frozen=True)
class MailContent:
    """The headline of one run, everything an e-mail body and subject need."""

    report_id: str
    title: str
    organisation: str
    period_key: str
    period_label: str
    date_range: str
    kpis: tuple[KpiLine, ...] = ()
    findings: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: numbers already sent for this period that this report states differently
    restatements: tuple[str, ...] = ()
    #: the open and overdue actions in one line (empty with no action register)
    actions: str = ""
    primary: str = "#1F3A5F"
    locale: str = "en"
    #: the run's page on the web page (settings ``web.public_url``); readers sign in there
    link: str = ""
    #: a test sent to one person: "[TEST]" in the subject and a banner in the body
    test: bool = False
    #: the report's scorecard (segments against headline KPIs), when it has one
    scorecard: MailScorecard | None = None

    @classmethod
    def from_model(cls, model: ReportModel) -> MailContent:
        return cls(
            report_id=model.report_id, title=model.title, organisation=model.organisation,
            period_key=model.period.key, period_label=model.period.label,
            date_range=model.period.date_range,
            kpis=tuple(KpiLine(k.metric.label, k.value_text, k.delta_text, k.status_text,
                               k.metric.status or "", k.delta_tone,
                               k.status_colour or text.status_colour(k.metric.status, model.theme),
                               k.delta_colour or text.tone_colour(k.delta_tone, model.theme),
                               k.sparkline.glyphs if k.sparkline else "")
                       for k in model.summary_kpis),
            primary=model.theme.primary, locale=model.locale,
            findings=tuple(f.sentence for f in model.findings),  # the summary's, all of them
            actions=_actions_line(model),
            warnings=tuple(model.warnings),
            restatements=tuple(model.restatements),
            scorecard=None if model.scorecard is None
            else MailScorecard.from_model(model.scorecard),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MailContent:
        values = dict(data)
        values["kpis"] = tuple(KpiLine(**k) for k in values.get("kpis", ()))
        values["findings"] = tuple(values.get("findings", ()))
        values["warnings"] = tuple(values.get("warnings", ()))
        values["restatements"] = tuple(values.get("restatements", ()))
        if values.get("scorecard") is not None:
            values["scorecard"] = MailScorecard.from_json(values["scorecard"])
        return cls(**values)


def kpi_line(kpi: KpiLine) -> str:
    """One headline KPI as the plain-text e-mail writes it:
    ``CSAT: 81.9% (−3.7 pts vs August 2026) - On target``."""
    line = f"{kpi.label}: {kpi.value_text}"
    if kpi.delta_text:
        line += f" ({kpi.delta_text})"
    if kpi.status_text:
        line += f" - {kpi.status_text}"
    if kpi.trend:
        line += f"  {kpi.trend}"
    return line


#: the banner of a test e-mail
TEST_NOTE = ("TEST: this copy was sent only to you, to check the report before it goes out; "
             "its recipients have not received it.")

def _actions_line(model: ReportModel) -> str:
    # the action register's wording, loaded only when a report is made into a message
    # (validate renders messages too, and must not load the analysis stack)
    from reportgen.report.actions import overdue_line

    return overdue_line(model.actions)


# Mail clients ignore stylesheets: every style is inline, and layout is tables.

_HTML = """\
<!DOCTYPE html>
<html lang="{{ c.locale | replace('_', '-') }}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ c.title }}</title></head>
<body style="margin: 0; padding: 0; background: #f4f6f8;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background: #f4f6f8;">
<tr><td align="center" style="padding: 24px 12px;">
<table role="presentation" width="640" cellpadding="0" cellspacing="0"
       style="width: 640px; max-width: 100%; background: #ffffff; border-collapse: collapse;
              font-family: Arial, Helvetica, sans-serif; color: #1f2933; font-size: 14px;">
<tr><td style="background: {{ c.primary }}; padding: 20px 24px; color: #ffffff;">
  {% if c.organisation %}<div style="font-size: 12px; opacity: 0.85;">{{ c.organisation }}</div>{% endif %}
  <div style="font-size: 22px; font-weight: bold; margin-top: 4px;">{{ c.title }}</div>
  <div style="font-size: 14px; margin-top: 4px;">{{ c.period_label }} &middot; {{ c.date_range }}</div>
</td></tr>
{% if c.test %}<tr><td style="padding: 16px 24px 0;">
  <div style="border: 2px dashed #9b1c1c; background: #fdecec; padding: 10px 12px; color: #7a1616; font-weight: bold;">{{ test_note }}</div>
</td></tr>{% endif %}
{% if c.restatements %}<tr><td style="padding: 16px 24px 0;">
  <div style="border-left: 4px solid #1F3A5F; background: #eef2f7; padding: 10px 12px; color: #1f2933;">
  {% for r in c.restatements %}{{ r }}{% if not loop.last %}<br>{% endif %}{% endfor %}</div>
</td></tr>{% endif %}
{% if c.warnings %}<tr><td style="padding: 16px 24px 0;">
  <div style="border-left: 4px solid #B7791F; background: #fdf6e7; padding: 10px 12px; color: #6b4a10;">
  {% for w in c.warnings %}{{ w }}{% if not loop.last %}<br>{% endif %}{% endfor %}</div>
</td></tr>{% endif %}
{% if c.kpis %}<tr><td style="padding: 16px 24px 4px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse: collapse;">
<tr>
  <th align="left" style="padding: 6px 8px; border-bottom: 2px solid #d9dee4; font-size: 12px; color: #5f6b7a;">Metric</th>
  <th align="right" style="padding: 6px 8px; border-bottom: 2px solid #d9dee4; font-size: 12px; color: #5f6b7a;">Value</th>
  <th align="right" style="padding: 6px 8px; border-bottom: 2px solid #d9dee4; font-size: 12px; color: #5f6b7a;">Change</th>
  <th align="left" style="padding: 6px 8px; border-bottom: 2px solid #d9dee4; font-size: 12px; color: #5f6b7a;">Status</th>
  {% if c.kpis | selectattr("trend") | list %}<th align="left" style="padding: 6px 8px; border-bottom: 2px solid #d9dee4; font-size: 12px; color: #5f6b7a;">Trend</th>{% endif %}
</tr>
{% for k in c.kpis %}<tr>
  <td style="padding: 8px; border-bottom: 1px solid #eceff2;">{{ k.label }}</td>
  <td align="right" style="padding: 8px; border-bottom: 1px solid #eceff2; white-space: nowrap;"><strong>{{ k.value_text }}</strong></td>
  <td align="right" style="padding: 8px; border-bottom: 1px solid #eceff2; color: {{ k.delta_ink }};">{{ k.delta_text }}</td>
  <td style="padding: 8px; border-bottom: 1px solid #eceff2;">{% if k.status_text %}<span style="background: {{ k.status_fill }}; color: #ffffff; border-radius: 10px; padding: 2px 8px; font-size: 12px; white-space: nowrap;">{{ k.status_text }}</span>{% endif %}</td>
  {% if c.kpis | selectattr("trend") | list %}<td style="padding: 8px; border-bottom: 1px solid #eceff2; color: #5f6b7a; white-space: nowrap; letter-spacing: -1px;">{{ k.trend }}</td>{% endif %}
</tr>{% endfor %}
</table></td></tr>{% endif %}
{% if c.findings %}<tr><td style="padding: 16px 24px 0;">
  <div style="font-size: 16px; font-weight: bold; margin-bottom: 6px;">Highlights</div>
  {% for f in c.findings %}<p style="margin: 0 0 8px; line-height: 1.45;">&bull; {{ f }}</p>{% endfor %}
</td></tr>{% endif %}
{% if c.scorecard %}{{ scorecard(c.scorecard) }}{% endif %}
{% if c.actions %}<tr><td style="padding: 8px 24px 0;">
  <div style="font-size: 16px; font-weight: bold; margin-bottom: 6px;">Actions</div>
  <p style="margin: 0 0 8px; line-height: 1.45;">{{ c.actions }}</p>
</td></tr>{% endif %}
<tr><td style="padding: 12px 24px 20px; color: #5f6b7a; font-size: 13px;">{{ note }}{% if c.link %}<br><a href="{{ c.link }}" style="color: {{ c.primary }};">Open this run on the web page</a>{% endif %}</td></tr>
</table>
</td></tr></table>
</body></html>
"""

_TEXT = """\
{% if c.test %}*** {{ test_note }} ***

{% endif %}{{ c.title }}
{% if c.organisation %}{{ c.organisation }} - {% endif %}{{ c.period_label }} ({{ c.date_range }})
{% for r in c.restatements %}
{{ r }}
{% endfor %}{% if c.kpis %}
{% for k in c.kpis %}- {{ kpi_line(k) }}
{% endfor %}{% endif %}{% if c.findings %}
Highlights:
{% for f in c.findings %}- {{ f }}
{% endfor %}{% endif %}{% if c.scorecard %}
{{ c.scorecard.title }}:
{% for line in scorecard_lines(c.scorecard) %}- {{ line }}
{% endfor %}{% if c.scorecard.note %}{{ c.scorecard.note }}
{% endif %}{% endif %}{% if c.actions %}
Actions: {{ c.actions }}
{% endif %}{% for w in c.warnings %}
Note: {{ w }}{% endfor %}

{{ note }}{% if c.link %}
On the web page: {{ c.link }}{% endif %}
"""

# Autoescape matters: titles, labels and findings come from definitions and data.
_html_env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_text_env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined,
                               keep_trailing_newline=True)
_html_template = _html_env.from_string(SCORECARD_HTML + _HTML)
_text_template = _text_env.from_string(_TEXT)


def render_bodies(content: MailContent, attached: list[str]) -> tuple[str, str]:
    """The plain-text and HTML bodies; ``attached`` names the attached files."""
    note = ("The full report is attached: " + ", ".join(attached) + "."
            if attached else "The full report is available from the reporting team.")
    return (_text_template.render(c=content, note=note, test_note=TEST_NOTE, kpi_line=kpi_line,
                                  scorecard_lines=scorecard_lines),
            _html_template.render(c=content, note=note, test_note=TEST_NOTE))
