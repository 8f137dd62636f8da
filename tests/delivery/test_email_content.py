"""The report e-mail's body: what a reader sees first, and what a resend reads back."""

from __future__ import annotations

import dataclasses

from support.factories import sample_model

from reportgen.delivery.content import MailContent, render_bodies
from reportgen.report.model.report_model import Theme
from reportgen.report.tiles_and_tables import make_kpi


def test_status_and_change_are_coloured_and_text_is_escaped():
    content = MailContent.from_model(sample_model())
    text, html = render_bodies(content, ["mqr-2026-10.pdf"])
    assert "background: #C0392B" in html and ">Off target</span>" in html  # off target: red
    assert "color: #C0392B;\">−4.1 pts" in html  # a significant bad move: red
    assert "<strong>81.2%</strong>" in html
    assert "CSAT: 81.2% (−4.1 pts) - Off target" in text
    assert "The full report is attached: mqr-2026-10.pdf." in text


def test_content_stored_before_colours_existed_still_renders():
    stored = MailContent.from_model(sample_model()).to_json()
    for kpi in stored["kpis"]:
        del kpi["status"], kpi["delta_tone"]
    del stored["primary"]
    text, html = render_bodies(MailContent.from_json(stored), [])
    assert "81.2%" in html and "background: #1F3A5F" in html
    assert "available from the reporting team" in text


def test_colours_come_from_the_report_theme_through_the_one_palette():
    theme = Theme(bad="#7A0019", good="#004D2C")
    base = sample_model()
    kpi = make_kpi(base.summary_kpis[0].metric, theme)  # off target, significant decline
    model = dataclasses.replace(base, theme=theme, summary_kpis=(kpi,))
    _, html = render_bodies(MailContent.from_model(model), [])
    assert "background: #7A0019" in html and "color: #7A0019;" in html
    assert "#C0392B" not in html  # the default red is not hard-coded anywhere in the mail


def test_the_mail_is_marked_with_the_reports_language():
    model = dataclasses.replace(sample_model(), locale="de_AT")
    content = MailContent.from_json(MailContent.from_model(model).to_json())
    _, html = render_bodies(content, [])
    assert '<html lang="de-AT">' in html
