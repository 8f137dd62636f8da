"""What a send needs is checked by ``validate`` (and by ``run`` before it reads any data):
the subject and messages are rendered against a sample report, headers hold no line break,
and every attached format is one of the outputs.  Each refusal names file:line:col and
the YAML path, and exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.cli import main

GOOD = """\
id: mqr
title: Monthly Quality Report
organisation: Example Support
owner: qa-lead@example.com
sources:
  csat:
    kind: csv
    path: csat.csv
    time_column: responded_at
    columns: {rating: int, queue: str}
metrics:
  - id: csat
    calculator: csat
    source: csat
    params: {column: rating}
    target: 0.85
sections:
  - id: voc
    title: Voice of the customer
    kpis: [csat]
outputs:
  - format: pdf
delivery:
  email:
    to: [director@example.com]
    subject: "{title} — {period}"
    attach: [pdf]
"""


def write(tmp_path: Path, old: str, new: str) -> Path:
    assert old in GOOD
    path = tmp_path / "report.yaml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    return path


def position_of(path: Path, text: str) -> str:
    """'line:column' of ``text``'s first character in the file (counted here, by hand)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return f"{number}:{line.index(text) + 1}"
    raise AssertionError(f"{text!r} is not in {path}")


def test_the_base_definition_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "report.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["validate", str(path)]) == 0


@pytest.mark.parametrize("old,new,at,where,message", [
    ('subject: "{title} — {period}"', 'subject: "{nope} report"', '"{nope}',
     "delivery.email.subject", "unknown placeholder '{nope}'"),
    ('subject: "{title} — {period}"', 'subject: "{title.__class__}"', '"{title.',
     "delivery.email.subject", "unknown placeholder '{title.__class__}'"),
    ('subject: "{title} — {period}"', 'subject: "{title:>999999999}"', '"{title:',
     "delivery.email.subject", "unknown placeholder '{title}'"),
    ('subject: "{title} — {period}"', 'subject: "{segment}"', '"{segment}',
     "delivery.email.subject", "unknown placeholder '{segment}'"),
    ("attach: [pdf]", "attach: [pptx]", "pptx", "delivery.email.attach[0]",
     "no output makes a pptx file"),
    ("attach: [pdf]", "attach: [pdf, pptx]", "pptx]", "delivery.email.attach[1]",
     "no output makes a pptx file"),
    ("title: Monthly Quality Report", 'title: "Monthly\\nQuality Report"', '"Monthly',
     "title", "single line"),
    ("title: Monthly Quality Report", 'title: "Monthly\\u2028Quality Report"', '"Monthly',
     "title", "single line"),
    ("organisation: Example Support", 'organisation: "Example\\rSupport"', '"Example',
     "organisation", "single line"),
    ("  - format: pdf", '  - format: pdf\n    filename: "{report}\\x85{period}.{ext}"',
     '"{report}', "outputs[0].filename", "without folders or control characters"),
])
def test_validate_refuses_what_a_send_would_refuse(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, at: str,
        where: str, message: str) -> None:
    path = write(tmp_path, old, new)

    assert main(["validate", str(path)]) == 2

    err = capsys.readouterr().err
    assert f"{path}:{position_of(path, at)} {where}: " in err, err
    assert message in err and "Traceback" not in err, err


def test_a_slack_attachment_no_output_makes_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "    attach: [pdf]\n",
                 "    attach: [pdf]\n  slack: {token_env: SLACK_TOKEN, channel: C1, "
                 "attach: [xlsx]}\n")

    assert main(["validate", str(path)]) == 2

    err = capsys.readouterr().err
    assert f"{path}:{position_of(path, 'xlsx')} delivery.slack.attach[0]: " in err, err


def test_run_refuses_before_reading_any_data(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # csat.csv does not exist: a run that got as far as the data would say so instead
    path = write(tmp_path, "attach: [pdf]", "attach: [pptx]")
    out = tmp_path / "out"

    status = main(["run", str(path), "--period", "2026-10", "--send", "--out", str(out)])

    err = capsys.readouterr().err
    assert status == 2, err
    assert f"{path}:{position_of(path, 'pptx')} delivery.email.attach[0]" in err, err
    assert "csat.csv" not in err
    assert not list(out.rglob("*.pdf"))


def test_a_line_break_in_a_segments_value_does_not_stop_its_mail() -> None:
    from reportgen.delivery.content import MailContent
    from reportgen.delivery.email import render_subject

    # a fan-out title holds the segment's value, which comes from the data
    content = MailContent(report_id="mqr", title="Quality — Billing\nBcc: x@example.com",
                          organisation="Acme", period_key="2026-10", period_label="October 2026",
                          date_range="1–31 Oct 2026")

    subject = render_subject("{title} ({period})", content)

    assert subject == "Quality — Billing Bcc: x@example.com (October 2026)"
