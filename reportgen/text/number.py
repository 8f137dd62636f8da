"""Numbers as readers see them: one rule per kind, in the report's locale (Babel).

The rules, used by every output (PDF, deck, e-mail, charts, findings):

* percent (rates stored as fractions): one decimal, the locale's percent sign and
  spacing: ``81.2%`` (en), ``81,2 %`` (de).
* score (0-100) and ``number`` on a 0-100-like scale: one decimal, ``84.5``.
* rating (a mean answer on a 1-5 or 1-7 scale): one decimal, ``5.2``; its changes are
  plain signed numbers (``−0.2``), not points, which belong to percentages and 0-100 scores.
* count: whole, grouped, ``1,234`` (en), ``1.234`` (de).
* durations: seconds whole (``45 s``), minutes and hours one decimal (``4.2 min``,
  ``55.6 h``); SI symbols, which read the same in every language.
* ratio: two decimals, ``0.81``.
* points (a difference of rates, stored as a fraction): signed, one decimal, ``−4.2 pts``;
  a range ``−6.4 to −2.0 pts``.
* a missing value: an em dash ``—``; a range: an en dash ``75.8–80.4%``.
* changes: rates and scores in points (``+1.1 pts`` on a tile, ``1.1 points`` in a
  sentence), counts with their relative change (``+110 (+6.4%)``), durations in their unit;
  signs are ``+``, ``−`` (U+2212) and ``±`` for no change.
* p-values: two significant digits, ``p = 0.024``, ``p = 0.49``; below 0.001 ``p < 0.001``;
  a p-value that would round onto the significance level keeps a third digit so the text
  never contradicts the verdict (0.0496 at α = 0.05 reads ``p = 0.0496``).
"""

from __future__ import annotations

import copy
import math
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern, format_decimal, format_scientific, parse_pattern

from reportgen.report.model.metric_results import ALL_EQUAL, Interval, Unit
from reportgen.text.locales import resolve

MISSING = "—"
RANGE = "–"
MINUS = "\u2212"

#: Decimals per unit (percent counts decimals of the percentage, 81.2 -> 1).
DECIMALS: dict[str, int] = {
    "percent": 1, "score": 1, "count": 0, "seconds": 0, "minutes": 1, "hours": 1,
    "ratio": 2, "number": 2, "points": 1, "rating": 1,
}
#: Symbols after duration values.
DURATION_SYMBOLS: dict[str, str] = {"seconds": "s", "minutes": "min", "hours": "h"}
#: Whole words for durations, for sentences (``3.4 minutes``).
DURATION_WORDS: dict[str, str] = {"seconds": "seconds", "minutes": "minutes", "hours": "hours"}
#: Units whose changes are points (a rate's percentage points, a 0-100 score's points).
POINT_UNITS = ("percent", "score", "points")
#: Units stored as fractions and read as hundredths (a rate, a difference of rates).
HUNDREDTHS = ("percent", "points")


def scale(unit: Unit | str) -> float:
    """What a stored value is multiplied by to read it: 100 for rates and their differences."""
    return 100.0 if unit in HUNDREDTHS else 1.0


def is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


#: the largest magnitude written with every digit (a 16-digit whole number)
LARGEST_PLAIN = 1e16


@lru_cache(maxsize=256)
def _percent_pattern(locale: Locale, decimals: int) -> NumberPattern:
    # The locale's own percent pattern (sign, spacing, position) with our decimals.
    pattern = copy.copy(parse_pattern(locale.percent_formats[None].pattern))
    pattern.frac_prec = (decimals, decimals)
    return pattern


def _typographic_minus(text: str) -> str:
    return text.replace("-", MINUS)


def decimal(value: float, decimals: int, locale: str | None = None, *,
            strip_zeros: bool = False) -> str:
    """``value`` with ``decimals`` decimals and the locale's separators (``1,234.5``)."""
    loc = resolve(locale)
    if math.isfinite(value) and abs(value) >= LARGEST_PLAIN:
        # beyond any real measurement (a damaged value such as 1e308): written with an
        # exponent, since its digits would overflow the decimal rounding and fill a page
        return _typographic_minus(format_scientific(value, format="0.###E0", locale=loc))
    minimum = 0 if strip_zeros else decimals
    pattern = "#,##0" + ("." + "0" * minimum + "#" * (decimals - minimum) if decimals else "")
    return _typographic_minus(format_decimal(value, format=pattern, locale=loc,
                                             decimal_quantization=True))


def plain(number: float, locale: str | None = None) -> str:
    """A number as it was given, with no trailing zeros: a setting or a bound such as
    ``24``, ``1.5`` or ``0.05`` (``0,05`` in ``de``)."""
    return decimal(number, 6, locale, strip_zeros=True)


def significance(alpha: float, locale: str | None = None) -> str:
    """A significance level: ``α = 0.05``."""
    return f"α = {plain(alpha, locale)}"


def percent(fraction: float, decimals: int = 1, locale: str | None = None) -> str:
    """A fraction as a percentage: ``0.8123`` -> ``81.2%`` (en), ``81,2 %`` (de)."""
    loc = resolve(locale)
    if math.isfinite(fraction) and abs(fraction) >= LARGEST_PLAIN / 100:
        return decimal(fraction * 100, decimals, locale) + "%"
    return _typographic_minus(_percent_pattern(loc, decimals).apply(fraction, loc))


def count(n: float | None, locale: str | None = None) -> str:
    """A whole number with grouping: ``1,234``."""
    return MISSING if is_missing(n) else decimal(float(n), 0, locale)  # type: ignore[arg-type]


def seconds(value: float | None, locale: str | None = None) -> str:
    """A duration in seconds as a person reads it: ``0.4 s`` under ten seconds (where a
    whole number would say 0), ``12 s`` beyond."""
    if is_missing(value):
        return MISSING
    amount = float(value)  # type: ignore[arg-type]
    return f"{decimal(amount, 1 if amount < 10 else 0, locale)} s"


def value(number: float | None, unit: Unit | str, locale: str | None = None,
          decimals: int | None = None) -> str:
    """A metric value in its unit (see the module rules); ``None`` -> ``—``."""
    if is_missing(number):
        return MISSING
    assert number is not None
    places = DECIMALS.get(unit, 1) if decimals is None else decimals
    if unit == "percent":
        return percent(number, places, locale)
    if unit == "points":
        return _sign(round(number * 100, places), f"{decimal(abs(number) * 100, places, locale)} pts")
    if unit in DURATION_SYMBOLS:
        return f"{decimal(number, places, locale)} {DURATION_SYMBOLS[unit]}"
    if unit == "number" and decimals is None:
        return decimal(number, 2, locale, strip_zeros=True)
    return decimal(number, places, locale)


def value_words(number: float | None, unit: Unit | str, locale: str | None = None) -> str:
    """A value for a sentence: durations in words (``4.2 minutes``), else as :func:`value`."""
    if is_missing(number):
        return "no value"
    if unit in DURATION_WORDS:
        assert number is not None
        return f"{decimal(number, DECIMALS[unit], locale)} {DURATION_WORDS[unit]}"
    return value(number, unit, locale)


def _sign(number: float, text: str) -> str:
    if number > 0:
        return f"+{text}"
    if number < 0:
        return f"{MINUS}{text}"
    return f"±{text}"


def points(delta: float, unit: Unit | str, locale: str | None = None) -> str:
    """The unsigned size of a change of a rate or score in points: ``4.1`` (no word)."""
    return decimal(abs(delta) * scale(unit), 1, locale)


def change(delta: float | None, unit: Unit | str, previous: float | None = None,
           locale: str | None = None) -> str:
    """A signed change for tiles and tables: ``+1.1 pts``, ``+110 (+6.4%)``, ``−0.2 min``."""
    if is_missing(delta):
        return MISSING
    assert delta is not None
    if unit in POINT_UNITS:
        size = points(delta, unit, locale)
        return _sign(_shown(delta, unit), f"{size} pts")
    size_text = value(abs(delta), unit, locale)
    text = _sign(_shown(delta, unit), size_text)
    if unit == "count" and previous and _shown(delta, unit) != 0:  # not "±0 (±0.0%)"
        text += f" ({_sign(delta, percent(abs(delta) / previous, 1, locale))})"
    return text


def _displayed(number: float, factor: float, places: int) -> float:
    """``number`` × ``factor`` rounded as Babel writes it: the float's shortest decimal
    (``repr``), rounded half to even.  Python's ``round`` works on the binary value instead
    (``round(14.35, 1)`` is 14.3 while the text reads 14.4), so arithmetic a reader checks
    is done on this."""
    exact = Decimal(repr(float(number))) * Decimal(repr(float(factor)))
    if not exact.is_finite() or exact.adjusted() > 15:
        # beyond a double's 15-16 digits there are no decimals left to round (and quantize
        # would overflow the context's precision)
        return round(float(exact), places)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def _shown(delta: float, unit: Unit | str) -> float:
    """The delta as it will be displayed, so a change that rounds to zero reads ``±0.0``."""
    return _displayed(delta, scale(unit), DECIMALS.get(unit, 1))


def shown(number: float, unit: Unit | str) -> float:
    """``number`` as a reader sees it, in the unit's own scale: ``0.5812`` (percent) ->
    ``0.581``, ``86.44`` (score) -> ``86.4``.  Arithmetic a reader can check is done on these."""
    factor = scale(unit)
    return _displayed(number, factor, DECIMALS.get(unit, 1)) / factor


def shown_difference(after: float, before: float, unit: Unit | str) -> float:
    """The difference of two displayed values, as the reader computes it from them:
    58.1% against 55.1% is 3.0 points even when the unrounded values differ by 3.06."""
    factor, places = scale(unit), DECIMALS.get(unit, 1)
    return round(_displayed(after, factor, places) - _displayed(before, factor, places),
                 places) / factor


def shown_parts(total: float, parts: list[float], unit: Unit | str) -> list[float]:
    """``parts`` of ``total`` rounded so that the displayed parts add up to the displayed
    total: each part is rounded, and the rounding left over goes, one last digit at a time,
    to the parts that rounding moved furthest (−0.54 and −3.14 under −3.72 read −0.5 and
    −3.2)."""
    factor, places = scale(unit), DECIMALS.get(unit, 1)
    step = 10.0 ** -places
    exact = [p * factor / step for p in parts]
    steps = [round(_displayed(p, factor, places) / step) for p in parts]
    left = round(_displayed(total, factor, places) / step) - sum(steps)
    sign = 1 if left > 0 else -1
    order = sorted(range(len(parts)), key=lambda i: -sign * (exact[i] - steps[i]))
    for i in order[:abs(left)]:
        steps[i] += sign
    return [round(k * step, places) / factor for k in steps]


def change_words(delta: float, unit: Unit | str, locale: str | None = None) -> str:
    """The unsigned size of a change for a sentence: ``4.1 points``, ``3.4 minutes``."""
    if unit in POINT_UNITS:
        return f"{points(delta, unit, locale)} points"
    return value_words(abs(delta), unit, locale)


def signed_change_words(delta: float, unit: Unit | str, locale: str | None = None) -> str:
    """A signed change for contributions that add up: ``−2.9 points``."""
    sign = MINUS if _shown(delta, unit) < 0 else "+"
    return sign + change_words(delta, unit, locale)


def interval(low: float, high: float, unit: Unit | str, locale: str | None = None) -> str:
    """A range with the unit once: ``75.8–80.4%``, ``3.9–4.5 min``, ``28.0–40.3``."""
    low_text, high_text = value(low, unit, locale), value(high, unit, locale)
    if unit == "points":  # signed values: "−6.4 to −2.0 pts"
        return f"{low_text.removesuffix(' pts')} to {high_text}"
    suffix = _common_suffix(low_text, high_text)
    if suffix and low < 0 <= high:
        suffix = ""  # "−2.0%–3.0%": keep both units where the sign changes
    return f"{low_text[: len(low_text) - len(suffix)]}{RANGE}{high_text}"


def _common_suffix(a: str, b: str) -> str:
    """The unit text both strings end with (everything after the last digit)."""
    def tail(text: str) -> str:
        i = len(text)
        while i and not text[i - 1].isdigit():
            i -= 1
        return text[i:]

    return tail(a) if tail(a) == tail(b) else ""


def confidence_label(level: float, locale: str | None = None) -> str:
    """``95% CI``: the level of an interval."""
    return f"{percent(level, 0, locale)} CI"


def interval_text(found: Interval | None, unit: Unit | str, locale: str | None = None,
                  n: int | None = None) -> str:
    """A labelled interval for a tile: ``95% CI 75.8–80.4%`` (empty without one); a sample
    whose ``n`` values were all equal says so rather than show a zero-width range."""
    if found is None:
        return ""
    if found.method == ALL_EQUAL:
        return all_equal_text(n, locale)
    return f"{confidence_label(found.level, locale)} {interval(found.low, found.high, unit, locale)}"


def all_equal_text(n: int | None, locale: str | None = None) -> str:
    """``all 40 values were equal`` (in place of an interval)."""
    return "all values were equal" if n is None else f"all {count(n, locale)} values were equal"


def p_value(p: float | None, alpha: float | None = None, locale: str | None = None) -> str:
    """``p = 0.024``, ``p = 0.49``, ``p < 0.001`` (see the module rules); None -> ``""``."""
    if is_missing(p):
        return ""
    assert p is not None
    if p < 0.001:
        return f"p < {decimal(0.001, 3, locale)}"
    digits = 2
    shown = float(f"{p:.{digits}g}")
    if alpha is not None and math.isclose(shown, alpha) and not math.isclose(p, alpha):
        digits = 3
        shown = float(f"{p:.{digits}g}")
    places = max(0, digits - 1 - math.floor(math.log10(shown)))
    return f"p = {decimal(shown, places, locale)}"


def n_text(n: float, locale: str | None = None) -> str:
    """A sample size: ``n = 1,234``."""
    return f"n = {count(n, locale)}"


def share(fraction: float, locale: str | None = None) -> str:
    """A share of a whole with no decimals (``40%``); below 1% reads ``under 1%``."""
    if 0 < fraction < 0.005:
        return f"under {percent(0.01, 0, locale)}"
    return percent(fraction, 0, locale)
