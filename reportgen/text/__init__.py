"""The text authority: every number, date and status a reader sees is written here.

One rule per kind (see :mod:`reportgen.text.number` and :mod:`reportgen.text.dates`), in the
report's locale (the definition's ``locale:``, Babel), and one status palette
(:mod:`reportgen.text.status`).  The assembled model carries the strings; the PDF, the deck,
the e-mail, the workbook and the charts only place them.
"""

from __future__ import annotations

from reportgen.text import terms
from reportgen.text.contrast import PAPER_TINT, contrast, ink_on, readable
from reportgen.text.dates import (
    clock,
    date_range,
    day,
    month,
    month_axis,
    period_label,
    quarter_axis,
    short_month,
    timestamp,
    week_axis,
)
from reportgen.text.locales import (
    DEFAULT_LOCALE,
    check_locale,
    current_locale,
    locale_scope,
    parse_locale,
)
from reportgen.text.number import (
    MINUS,
    MISSING,
    RANGE,
    change,
    change_words,
    confidence_label,
    count,
    decimal,
    interval,
    interval_text,
    is_missing,
    n_text,
    p_value,
    percent,
    plain,
    scale,
    seconds,
    share,
    shown,
    shown_difference,
    shown_parts,
    signed_change_words,
    significance,
    value,
    value_words,
)
from reportgen.text.status import (
    STATUSES,
    StatusStyle,
    status_colour,
    status_label,
    status_tone,
    tone_colour,
)
from reportgen.text.truncate import footnoted, shorten
from reportgen.text.words import humanise, join_names, plural, plural_noun, value_label

__all__ = [
    "DEFAULT_LOCALE", "MINUS", "MISSING", "RANGE", "STATUSES", "StatusStyle", "change",
    "PAPER_TINT", "contrast", "ink_on", "readable",
    "change_words", "check_locale", "clock", "confidence_label", "count", "current_locale", "seconds", "date_range",
    "day", "decimal", "footnoted", "humanise", "interval", "interval_text", "is_missing", "value_label",
    "join_names",
    "locale_scope", "month", "month_axis", "n_text", "p_value", "parse_locale", "percent", "period_label", "scale",
    "plain", "significance",
    "plural", "plural_noun", "quarter_axis", "share", "short_month", "shorten", "shown", "shown_difference", "shown_parts", "signed_change_words", "status_colour",
    "status_label", "status_tone", "timestamp", "tone_colour", "value", "value_words",
    "week_axis", "terms",
]
