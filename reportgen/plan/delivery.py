"""The checks of what a send will need: so that ``validate`` passes only what ``run --send``
can deliver.

The e-mail subject and bodies, the chat messages and the attachment names are rendered by
the same functions a send uses, against a sample of the report (the definition's own title
and organisation, a sample period and segment), and every attached format must be one of
the definition's outputs.  Problems are located at the field they come from.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reportgen.definition.checks import Collector, _items
from reportgen.definition.delivery_specs import SUBJECT_FIELDS, check_message_template
from reportgen.definition.fields import FILENAME_FIELDS, LINE_BREAKS, unknown_placeholder
from reportgen.definition.yaml_loader import PathKey

#: what a sample send fills in for the values that come from the period and the data
SAMPLE_PERIOD = ("2026-10", "October 2026", "1 Oct 2026 – 31 Oct 2026")
SAMPLE_SEGMENT = "Sample segment"


def delivery_problems(raw: Mapping[str, Any], out: Collector, base_dir: Path) -> None:
    """Attachments that no output makes; subjects, messages and file names that a send
    would refuse (a line break in a header, an unknown placeholder)."""
    delivery = raw.get("delivery")
    if not isinstance(delivery, dict):
        return
    formats = _output_formats(raw)
    for channel in ("email", "slack"):
        spec = delivery.get(channel)
        attach = spec.get("attach") if isinstance(spec, dict) else None
        if not isinstance(attach, list):
            continue
        for j, fmt in enumerate(attach):
            if isinstance(fmt, str) and formats is not None and fmt not in formats:
                out.add(("delivery", channel, "attach", j),
                        f"attaches '{fmt}', but no output makes a {fmt} file (outputs: "
                        f"{', '.join(sorted(formats)) or 'none'}); add "
                        f"'- format: {fmt}' to outputs or remove it here")
    titles = _sample_titles(raw)
    if titles is None:
        return  # the title, organisation or fan-out title is reported by the models
    email = delivery.get("email")
    if isinstance(email, dict):
        _check_email(raw, email, titles, out)
    for channel in ("slack", "teams"):
        spec = delivery.get(channel)
        message = spec.get("message") if isinstance(spec, dict) else None
        if isinstance(message, str):
            _check_chat(message, titles, ("delivery", channel, "message"), out)


def _output_formats(raw: Mapping[str, Any]) -> set[str] | None:
    outputs = raw.get("outputs", [{"format": "pdf"}])
    if not isinstance(outputs, list):
        return None  # reported by the models
    return {o["format"] for o in outputs if isinstance(o, dict) and isinstance(o.get("format"), str)}


def _sample_titles(raw: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    """(title, segment) of each report a send makes: the whole report, and a sample
    segment's when the definition fans out; None when a title cannot be made."""
    title, organisation = raw.get("title"), raw.get("organisation", "")
    if not isinstance(title, str) or not isinstance(organisation, str):
        return None
    if any(ch in LINE_BREAKS for ch in title + organisation):
        return None
    titles = [(title, "")]
    fan_out = raw.get("fan_out")
    if isinstance(fan_out, dict):
        template = fan_out.get("title", "{title} — {segment}")
        try:
            check_message_template(template, ("title", "segment"))
            titles.append((template.format(title=title, segment=SAMPLE_SEGMENT), SAMPLE_SEGMENT))
        except (ValueError, TypeError, AttributeError):
            return None
    return titles


def _sample_content(raw: Mapping[str, Any], title: str) -> Any:
    from reportgen.delivery.content import MailContent

    key, label, dates = SAMPLE_PERIOD
    return MailContent(report_id=str(raw.get("id", "report")), title=title,
                       organisation=str(raw.get("organisation", "")), period_key=key,
                       period_label=label, date_range=dates)


def _check_email(raw: Mapping[str, Any], email: Mapping[str, Any],
                 titles: list[tuple[str, str]], out: Collector) -> None:
    from reportgen.delivery.content import render_bodies
    from reportgen.delivery.headers import check_header, render_subject
    from reportgen.errors import ReportgenError

    subject = email.get("subject", "{title} — {period}")
    if not isinstance(subject, str):
        return
    try:
        check_message_template(subject, SUBJECT_FIELDS)
    except ValueError:
        return  # reported by the models, at the subject
    names = _attachment_names(raw, email)
    for title, _ in titles:
        content = _sample_content(raw, title)
        try:
            render_subject(subject, content)
        except (ReportgenError, ValueError) as exc:
            out.add(("delivery", "email", "subject"), f"the subject cannot be made: {exc}")
        for path, name in names:
            try:
                check_header("filename", name)
            except ValueError as exc:
                out.add(path, f"the attachment's name cannot be sent: {exc}")
        try:
            render_bodies(content, [name for _, name in names])
        except Exception as exc:  # a template error is a problem of this definition
            out.add(("delivery", "email"), f"the message cannot be made: {exc}")


def _attachment_names(raw: Mapping[str, Any], email: Mapping[str, Any]) -> list[tuple[PathKey, str]]:
    """The attached files' names for the sample period, with the output each comes from."""
    attach = email.get("attach", ["pdf"])
    wanted = [f for f in attach if isinstance(f, str)] if isinstance(attach, list) else []
    names: list[tuple[PathKey, str]] = []
    for i, output in _items(raw, "outputs"):
        fmt, template = output.get("format"), output.get("filename", "{report}-{period}.{ext}")
        if fmt not in wanted or not isinstance(template, str):
            continue
        try:  # a template the models refuse (a format spec such as {ext:>999999999}) is
            # reported there, at the file name, and never formatted here
            if unknown_placeholder(template, FILENAME_FIELDS) is not None:
                continue
            name = template.format(report=raw.get("id", "report"), period=SAMPLE_PERIOD[0],
                                   ext=fmt)
        except (ValueError, KeyError, IndexError, AttributeError):
            continue
        names.append((("outputs", i, "filename"), name))
    return names


def _check_chat(message: str, titles: list[tuple[str, str]], path: PathKey,
                out: Collector) -> None:
    try:
        check_message_template(message)
    except ValueError:
        return  # reported by the models
    for title, segment in titles:
        try:
            message.format(title=title, period=SAMPLE_PERIOD[1], segment=segment)
        except (ValueError, KeyError, IndexError, AttributeError) as exc:
            out.add(path, f"the message cannot be made: {exc}")
