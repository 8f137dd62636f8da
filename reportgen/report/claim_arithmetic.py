"""Arithmetic a reader can check in one sentence: does the shown result follow from the shown
values it relates?

A reader who sees "fell 3.7 points to 78.2%, from 81.9%" subtracts 78.2 from 81.9; the
sentence must agree with that, not with the unrounded values.  Each rule below names one
way the report's sentences relate shown values (a change from one value to another, the
difference of two changes, a gap to a target or a range, a share of a count), and checks it
on the values as shown, in exact decimal arithmetic at the shown result's decimals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from reportgen import text

#: a signed number as the text authority writes it (group and decimal separators, − sign)
SIGNED = r"[+−±-]?\d+(?:[.,\u00a0\u202f']\d+)*"
_N = SIGNED
_UNIT = r"(?:\s?(?:%|points?|pts|minutes|hours|seconds|min|h|s))?"


@lru_cache(maxsize=16)
def _separators(locale: str) -> tuple[str, str]:
    symbols = text.locales.parse_locale(locale).number_symbols.get("latn", {})
    return symbols.get("group", ","), symbols.get("decimal", ".")


def shown_number(token: str, locale: str) -> Decimal:
    """A shown number, exactly as shown (``−3.7`` -> Decimal('-3.7'))."""
    group, point = _separators(locale)
    sign = -1 if token[:1] in {"−", "-"} else 1
    digits = token.lstrip("+−±-").replace(group, "").replace("\u00a0", "").replace("\u202f", "")
    return sign * Decimal(digits.replace(point, "."))


def _places(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _agrees(result: Decimal, computed: Decimal) -> bool:
    """``result`` is ``computed`` at ``result``'s decimals."""
    step = Decimal(1).scaleb(-_places(result))
    return computed.quantize(step, rounding=ROUND_HALF_EVEN) == result


Rule = Callable[[dict[str, Decimal]], tuple[Decimal, Decimal, str] | None]


def _change(v: dict[str, Decimal]) -> tuple[Decimal, Decimal, str]:
    return abs(v["d"]), abs(v["b"] - v["a"]), "the distance from {a} to {b}"


def _difference(v: dict[str, Decimal]) -> tuple[Decimal, Decimal, str]:
    return abs(v["d"]), abs(v["a"] - v["b"]), "{a} minus {b}"


def _gap(v: dict[str, Decimal]) -> tuple[Decimal, Decimal, str]:
    return abs(v["d"]), abs(v["t"] - v["v"]), "the gap from {v} to {t}"


def _range_gap(v: dict[str, Decimal]) -> tuple[Decimal, Decimal, str]:
    edge = v["h"] if v["v"] > v["h"] else v["l"]
    return abs(v["d"]), abs(v["v"] - edge), "the distance from {v} to the range {l}–{h}"


def _share(v: dict[str, Decimal]) -> tuple[Decimal, Decimal, str] | None:
    if not v["m"]:
        return None
    return v["p"], v["n"] / v["m"] * 100, "{n} of {m} as a percentage"


#: (pattern, rule): each pattern names the shown values the rule relates.
RULES: tuple[tuple[re.Pattern[str], Rule], ...] = (
    # "fell 3.7 points to 78.2% in September 2026, from 81.9% in August 2026"
    (re.compile(rf"\b(?:rose|fell|increased|decreased) (?P<d>{_N}){_UNIT} to (?P<b>{_N})"
                rf"{_UNIT}[^,;:()]*, from (?P<a>{_N})"), _change),
    # "rose 7.8 points after the change: 78.6 before, 86.4 after" / "...: 83.5% in August
    # 2026, 71.8% now"
    (re.compile(rf"\b(?:rose|fell) (?P<d>{_N}){_UNIT}[^:;]*: (?P<a>{_N}){_UNIT}"
                rf" (?:before|in [^,;]+), (?P<b>{_N}){_UNIT} (?:after|now)"), _change),
    # "rose 8.2 points more in Onboarding (+7.8 points) than in Account Access (−0.4 points)"
    (re.compile(rf"(?P<d>{_N}){_UNIT} (?:more|less|further) in [^()]+\((?P<a>{_N}){_UNIT}\)"
                rf" than in [^()]+\((?P<b>{_N}){_UNIT}\)"), _difference),
    # "78.2% in September 2026, 6.8 points below the 85.0% target"
    (re.compile(rf"(?P<v>{_N}){_UNIT} in [^,;:]+, (?P<d>{_N}){_UNIT} (?:below|above) the "
                rf"(?P<t>{_N}){_UNIT} target"), _gap),
    # "81.0 in September 2026 is below the 82.0 target" states no gap; "is 3.0 points below"
    (re.compile(rf"(?P<v>{_N}){_UNIT} [^,;:]*?\bis (?P<d>{_N}){_UNIT} (?:below|above) the "
                rf"(?P<t>{_N}){_UNIT} target"), _gap),
    # "538, 85 above its expected range of 315–453"
    (re.compile(rf"(?P<v>{_N}){_UNIT}, (?P<d>{_N}){_UNIT} (?:above|below) its expected range "
                rf"of (?P<l>{_N}){_UNIT}–(?P<h>{_N})"), _range_gap),
    # "31 of 138 dissatisfied comments in September 2026 (22%)"
    (re.compile(rf"\b(?P<n>{_N}) of (?:the )?(?P<m>{_N})\b[^()\d]*?\((?P<p>{_N})\s?%"), _share),
)


def relations(sentence: str, locale: str) -> Iterator[tuple[int, int, str, str | None]]:
    """Each relation in ``sentence`` whose shown values it can check: the span of its shown
    result, the result, and what it disagrees with (None when the arithmetic agrees)."""
    for pattern, rule in RULES:
        for match in pattern.finditer(sentence):
            shown = {k: shown_number(t, locale) for k, t in match.groupdict().items()}
            checked = rule(shown)
            if checked is None:
                continue
            result, computed, how = checked
            key = "d" if "d" in shown else "p"
            disagrees = None if _agrees(result, computed) else (
                f"disagrees with {how.format(**match.groupdict())}, which is "
                f"{_plain(computed, locale)}")
            yield match.start(key), match.end(key), match.group(key), disagrees


def parts_problem(total: str, parts: list[str], locale: str) -> str | None:
    """Shown parts that do not add up to their shown total: what they add up to."""
    added = sum((shown_number(p, locale) for p in parts), Decimal(0))
    result = shown_number(total, locale)
    if _agrees(result, added):
        return None
    return f"{' + '.join(parts)} = {_plain(added, locale)}, not {total}"


def _plain(number: Decimal, locale: str) -> str:
    """An exact result for a message, as the text authority writes a plain number."""
    return text.plain(float(number), locale)
