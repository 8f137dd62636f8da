"""Which locale numbers and dates are written in, for the report being built.

The locale is chosen once per report (the definition's ``locale:``) and held in a context
variable while the report is built, so the sentence writers deep inside insights and
charts follow it without every call threading it through.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from babel import Locale, UnknownLocaleError, localedata

DEFAULT_LOCALE = "en"

_current: ContextVar[str] = ContextVar("reportgen_text_locale", default=DEFAULT_LOCALE)


@lru_cache(maxsize=64)
def parse_locale(name: str) -> Locale:
    """The Babel locale for ``de``, ``de_DE`` or ``de-DE``; ValueError naming close matches."""
    cleaned = name.strip().replace("-", "_")
    try:
        return Locale.parse(cleaned)
    except (UnknownLocaleError, ValueError, TypeError):
        known = localedata.locale_identifiers()
        close = difflib.get_close_matches(cleaned, known, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"unknown locale {name!r}: expected a language code such as 'en', "
                         f"'de' or 'fr_CA'{hint}") from None


def check_locale(name: str) -> str:
    """Validate a locale name for the definition; returns it unchanged."""
    parse_locale(name)
    return name


def current_locale() -> Locale:
    """The locale of the report being built (``en`` outside any :func:`locale_scope`)."""
    return parse_locale(_current.get())


def resolve(locale: str | None) -> Locale:
    """``locale`` when given, else the current one."""
    return current_locale() if locale is None else parse_locale(locale)


@contextmanager
def locale_scope(name: str) -> Iterator[Locale]:
    """Write every number and date in ``name`` until the block ends."""
    parsed = parse_locale(name)
    token = _current.set(name)
    try:
        yield parsed
    finally:
        _current.reset(token)
