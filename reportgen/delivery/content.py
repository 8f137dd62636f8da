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

from reportgen.model import ReportModel

_SUMMARY_FINDINGS = 3  # an e-mail teases the report; the full list is in the attachment


@dataclass(frozen=True)
class KpiLine:
    """One headline KPI as the report shows it (display strings only)."""

    label: str
    value_text: str
    delta_text: str
    status_text: str


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

    @classmethod
    def from_model(cls, model: ReportModel) -> MailContent:
        return cls(
            report_id=model.report_id, title=model.title, organisation=model.organisation,
            period_key=model.period.key, period_label=model.period.label,
            date_range=model.period.date_range,
            kpis=tuple(KpiLine(k.metric.label, k.value_text, k.delta_text, k.status_text)
                       for k in model.summary_kpis),
            findings=tuple(f.sentence for f in model.findings[:_SUMMARY_FINDINGS]),
            warnings=tuple(model.warnings),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MailContent:
        values = dict(data)
        values["kpis"] = tuple(KpiLine(**k) for k in values.get("kpis", ()))
        values["findings"] = tuple(values.get("findings", ()))
        values["warnings"] = tuple(values.get("warnings", ()))
        return cls(**values)


_HTML = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ c.title }}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; color: #1f2933;">
<h1 style="font-size: 20px; margin-bottom: 4px;">{{ c.title }}</h1>
<p style="margin-top: 0; color: #5f6b7a;">{% if c.organisation %}{{ c.organisation }} &middot; {% endif %}{{ c.period_label }} ({{ c.date_range }})</p>
{% if c.kpis %}
<table role="presentation" style="border-collapse: collapse;" cellpadding="6">
<thead><tr><th align="left">KPI</th><th align="right">Value</th><th align="right">Change</th><th align="left">Status</th></tr></thead>
<tbody>
{% for k in c.kpis %}<tr><td>{{ k.label }}</td><td align="right"><strong>{{ k.value_text }}</strong></td><td align="right">{{ k.delta_text }}</td><td>{{ k.status_text }}</td></tr>
{% endfor %}</tbody></table>
{% endif %}
{% if c.findings %}<h2 style="font-size: 16px;">Highlights</h2>
<ul>{% for f in c.findings %}<li>{{ f }}</li>{% endfor %}</ul>{% endif %}
{% if c.warnings %}<p style="color: #b7791f;">{% for w in c.warnings %}{{ w }}<br>{% endfor %}</p>{% endif %}
<p style="color: #5f6b7a;">{{ note }}</p>
</body></html>
"""

_TEXT = """\
{{ c.title }}
{% if c.organisation %}{{ c.organisation }} - {% endif %}{{ c.period_label }} ({{ c.date_range }})
{% if c.kpis %}
{% for k in c.kpis %}- {{ k.label }}: {{ k.value_text }}{% if k.delta_text %} ({{ k.delta_text }}){% endif %}{% if k.status_text %} - {{ k.status_text }}{% endif %}
{% endfor %}{% endif %}{% if c.findings %}
Highlights:
{% for f in c.findings %}- {{ f }}
{% endfor %}{% endif %}{% for w in c.warnings %}
Note: {{ w }}{% endfor %}

{{ note }}
"""

# Autoescape matters: titles, labels and findings come from definitions and data.
_html_env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_text_env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined,
                               keep_trailing_newline=True)
_html_template = _html_env.from_string(_HTML)
_text_template = _text_env.from_string(_TEXT)


def render_bodies(content: MailContent, attached: list[str]) -> tuple[str, str]:
    """The plain-text and HTML bodies; ``attached`` names the attached files."""
    note = ("The full report is attached: " + ", ".join(attached) + "."
            if attached else "The full report is available from the reporting team.")
    return (_text_template.render(c=content, note=note),
            _html_template.render(c=content, note=note))
