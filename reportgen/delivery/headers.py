"""A message's headers: line breaks refused, the subject template filled in.

Kept apart from sending, so ``validate`` renders a definition's subject exactly as a send
would without loading the ledger or SMTP.
"""

from __future__ import annotations

from reportgen.definition.delivery_specs import SUBJECT_FIELDS, check_message_template
from reportgen.definition.fields import has_line_break
from reportgen.delivery.content import MailContent
from reportgen.errors import DeliveryError


class HeaderInjectionError(DeliveryError, ValueError):
    """A header value contains a line break, which could smuggle in extra headers."""

    def __init__(self, header: str, value: str):
        self.header = header
        shown = value.replace("\r", "\\r").replace("\n", "\\n")
        super().__init__(f"e-mail header {header} would contain a line break ({shown!r}); "
                         f"line breaks are refused because they could add headers. Remove "
                         f"them from the definition or data this value comes from")


def check_header(name: str, value: str) -> str:
    """``value``, or HeaderInjectionError when it holds a line break (any character
    ``str.splitlines`` breaks at, as the e-mail library refuses them all)."""
    if has_line_break(value):
        raise HeaderInjectionError(name, value)
    return value


def render_subject(template: str, content: MailContent) -> str:
    """Fill ``{title}``, ``{period}`` and ``{organisation}`` into the subject template
    (placeholders are checked as the definition's loader checks them)."""
    try:
        check_message_template(template, SUBJECT_FIELDS)
    except ValueError as exc:
        raise DeliveryError(f"delivery.email.subject: {exc}") from None
    # a fan-out's title holds a value from the data: a line break in it becomes a space
    values = {name: " ".join(value.splitlines()) for name, value in (
        ("title", content.title), ("period", content.period_label),
        ("organisation", content.organisation))}
    subject = template.format(**values)
    return check_header("Subject", f"[TEST] {subject}" if content.test else subject)
