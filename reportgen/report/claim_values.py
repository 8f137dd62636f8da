"""The values and names of a finished report model, for the claim checker.

Every number the model holds (however nested), every date it holds and every way the text
authority writes that date, and the names a report writes that hold digits (metric labels,
segments, chart titles and categories, what an action's owner wrote): a sentence's number
is searched among these in :class:`Pool`, at the number's own rounding.
"""

from __future__ import annotations

import bisect
import dataclasses
import numbers
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import numpy as np

from reportgen import text
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.report_model import ReportModel

#: A number as the text authority writes it in any locale: digits, with group and decimal
#: separators between digits; a number glued to letters (``AU07``, ``W36``, ``AC1``) is an
#: identifier, not a quantity.
NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,\u00a0\u202f']\d+)*(?:E[+-]?\d+)?(?![\w])")
#: Values of a model: a value, and for a fraction the same as a percentage / points.
_SCALES = (1.0, 100.0)


# -- the values of a model ------------------------------------------------------------------

def model_numbers(value: object, out: list[float], dates: set[date],
                  depth: int = 0) -> None:
    """Every number (and every date) held in ``value``, however nested."""
    kind: Any = type(value)
    if kind is float or kind is int:
        out.append(value)  # type: ignore[arg-type]
        return
    if value is None or kind is bool or depth > 8:
        return
    if kind is str:
        if 7 <= len(value) <= 10 and value[4:5] == "-":  # type: ignore[arg-type,index]
            found = _iso_date(value)  # type: ignore[arg-type]
            if found is not None:
                dates.add(found)
    elif isinstance(value, Mapping):
        for item in value.values():
            model_numbers(item, out, dates, depth + 1)
    elif kind is list or kind is tuple or isinstance(value, set | frozenset | list | tuple):
        out.append(len(value))  # type: ignore[arg-type]  # "for 12 auditors"
        for item in value:  # type: ignore[attr-defined]
            model_numbers(item, out, dates, depth + 1)
    elif isinstance(value, datetime):
        dates.add(value.date())
    elif isinstance(value, date):
        dates.add(value)
    elif dataclasses.is_dataclass(value):
        for name in _field_names(kind):
            model_numbers(getattr(value, name), out, dates, depth + 1)
        if isinstance(value, MetricResult) and value.change and value.change.previous \
                and value.change.delta is not None:
            # a count's change is also written relative to its previous value (+9.1%)
            out.append(value.change.delta / value.change.previous)
    elif isinstance(value, numbers.Real):  # numpy's numbers
        out.append(float(value))


def count_groups(value: object, out: list[frozenset[float]], depth: int = 0) -> None:
    """The counts ``value`` states together: for each mapping or record however nested, the
    whole numbers it holds and the sizes of the lists it holds (a list of flags also as how
    many are set); for a metric, each breakdown's segments counted by status.  A sentence's
    "N of M" must find N and M in one group."""
    if depth > 8 or value is None or isinstance(value, str | bytes | bool | numbers.Number):
        return
    if isinstance(value, Mapping):
        items = list(value.values())
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            count_groups(item, out, depth + 1)
        return
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, name) for name in _field_names(type(value))]
    else:
        return
    group: set[float] = set()
    for item in items:
        if isinstance(item, list | tuple | set | frozenset):
            group.add(float(len(item)))
            if item and all(type(flag) is bool for flag in item):
                group.add(float(sum(item)))
        elif isinstance(item, numbers.Real) and not isinstance(item, bool) \
                and float(item).is_integer():
            group.add(float(item))
        count_groups(item, out, depth + 1)
    if len(group) > 1 or (group and len(items) == 1):
        out.append(frozenset(group))
    if isinstance(value, MetricResult):
        out.extend(_segment_counts(value))


def _segment_counts(result: MetricResult) -> Iterator[frozenset[float]]:
    """Each breakdown's segments: how many there are, shown, judged, off target, at risk, on
    target, off target or at risk, and not shown; for a count, each segment's count and the
    total ("Chat has the most tickets: 5,304 of 14,004")."""
    for rows in result.breakdowns.values():
        shown = [row for row in rows if not row.suppressed]
        statuses = [row.status for row in shown]
        group = {len(rows), len(shown), len(rows) - len(shown),
                 sum(1 for row in shown if row.value is not None),
                 *(statuses.count(s) for s in ("off_target", "at_risk", "on_target")),
                 statuses.count("off_target") + statuses.count("at_risk")}
        counts: set[float] = {float(c) for c in group}
        if result.unit == "count" and result.value is not None:
            counts.add(float(result.value))
            counts.update(float(row.value) for row in shown if row.value is not None)
        yield frozenset(counts)


@lru_cache(maxsize=128)
def _field_names(kind: Any) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind) if f.name not in {"svg", "png"})


_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?|-Q([1-4])|-W(\d{2}))$")


def _iso_date(value: str) -> date | None:
    """``2026-06-01``, ``2026-09``, ``2026-Q3`` or ``2025-W36`` as the day it starts."""
    match = _ISO.match(value)
    if match is None:
        return None
    year, month, day, quarter, week = match.groups()
    try:
        if quarter:
            return date(int(year), 3 * int(quarter) - 2, 1)
        if week:
            return date.fromisocalendar(int(year), int(week), 1)
        return date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None


class Pool:
    """Sorted values, searched for one that the text authority writes as a token: as a
    number (``text.decimal``) or, a fraction, as a percentage or points (``text.percent``,
    which scales the value's decimal form, so 0.2875 reads 28.8 as a reader sees it)."""

    def __init__(self, values: Iterable[float]):
        found = np.abs(np.fromiter(values, dtype=float))
        self.values: list[float] = np.unique(found[np.isfinite(found)]).tolist()

    def holds(self, token: str, locale: str) -> bool:
        """Whether a value is written as ``token`` at the token's decimals."""
        mantissa, _, exponent = token.partition("E")
        number, decimals = parse_token(mantissa, locale)
        if number is None:
            return False
        if exponent:  # scientific notation (Babel's, for numbers beyond a double's digits)
            power = int(exponent)
            half = 0.5 * 10.0 ** (power - decimals) * (1 + 1e-9)
            value = number * 10.0 ** power
            return any(abs(v * scale - value) <= half for scale in _SCALES
                       for v in self.values[bisect.bisect_left(self.values, (value - half) / scale):
                                            bisect.bisect_right(self.values,
                                                                (value + half) / scale)])
        half = 0.5 * 10.0 ** -decimals + 1e-9
        for scale in _SCALES:
            start = bisect.bisect_left(self.values, (number - half) / scale)
            end = bisect.bisect_right(self.values, (number + half) / scale, lo=start)
            if any(_written(v, scale, decimals, locale) == token
                   for v in self.values[start:end]):
                return True
        return False


@lru_cache(maxsize=8192)
def _written(number: float, scale: float, decimals: int, locale: str) -> str:
    if scale == 1:
        return text.decimal(number, decimals, locale)
    found = NUMBER.search(text.percent(number, decimals, locale))
    return found.group() if found else ""


@lru_cache(maxsize=4096)
def parse_token(token: str, locale: str) -> tuple[float | None, int]:
    """A token as a number and its decimals, by the locale's separators."""
    symbols = text.locales.parse_locale(locale).number_symbols.get("latn", {})
    group, point = symbols.get("group", ","), symbols.get("decimal", ".")
    digits = token.replace(group, "").replace("\u00a0", "").replace("\u202f", "")
    whole, _, fraction = digits.partition(point)
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        return None, 0
    return float(f"{whole}.{fraction or 0}"), len(fraction)

# -- names and dates ------------------------------------------------------------------------

def _date_labels(day: date, locale: str) -> tuple[str, ...]:
    return _labels_of(day, locale)


@lru_cache(maxsize=2048)
def _labels_of(day: date, locale: str) -> tuple[str, ...]:
    """Every way the text authority writes ``day`` or the period it starts."""
    return (text.day(day, locale), text.month(day, locale), text.short_month(day, locale),
            text.month_axis(day, locale), text.quarter_axis(day, locale),
            text.week_axis(day, locale), text.period_label("quarter", day, locale),
            text.period_label("week", day, locale), f"{day.year}")


def model_names(model: ReportModel, dates: set[date]) -> list[str]:
    """What the report writes as a name or a date: never read as a quantity."""
    names: set[str] = {model.title, model.organisation, model.subtitle, model.owner,
                       model.period.label, model.period.previous_label,
                       model.period.date_range, model.period.key, model.generated_text}
    dates.update({model.period.start, model.period.end, model.generated_at.date()})
    for result in model.metrics.values():
        names.add(result.label)
        for rows in result.breakdowns.values():
            names.update(part for row in rows for part in row.key)
        for point in result.history:
            names.update((point.label, point.period))
            dates.add(point.start)
        for change in (result.change, result.year_over_year):
            if change is not None:
                names.update((change.against, change.test or ""))
        if result.interval is not None:
            names.add(result.interval.method)  # "percentile bootstrap (999 resamples, ...)"
    for section in model.sections:
        names.add(section.title)
        for table in section.tables:
            names.update(c.label for c in table.columns)
            names.update(str(row[0].text) for row in table.rows if row)
        for figure in section.figures:
            names.add(figure.title)
            _strings(figure.data, names)  # the labels it drew ("W40 26", a segment)
            if figure.native is not None:
                names.update(figure.native.categories)
                names.update(s.name for s in figure.native.series)
    for finding in (*model.findings, *(f for s in model.sections for f in s.findings)):
        names.add(finding.tag)
        _strings(finding.numbers, names)
    for stat in model.stat_notes:
        names.add(stat.label)
    if model.scorecard is not None:  # segments as the scorecard writes them ("Tier 2")
        names.update(row.label for row in model.scorecard.rows)
    if model.actions is not None:
        for item in model.actions.items:
            names.update((item.action, item.owner, item.finding, item.kpi_label, item.id))
    for day in dates:
        names.update(_date_labels(day, model.locale))
    # the text authority's floor for p-values: any p below it is written so
    names.add(text.p_value(0.0, locale=model.locale))
    return [n for n in names if n and any(c.isdigit() for c in n)]


def _strings(value: object, out: set[str], depth: int = 0) -> None:
    """The text values of a finding's numbers (a segment, an intervention, a term)."""
    if depth > 4:
        return
    if isinstance(value, str):
        out.add(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            _strings(item, out, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _strings(item, out, depth + 1)


def name_masker(names: list[str]) -> re.Pattern[str] | None:
    """A pattern for every name, whole (``2026`` is not masked inside ``20261202``)."""
    if not names:
        return None
    ordered = sorted(set(names), key=len, reverse=True)
    return re.compile(r"(?<![\w.,])(?:" + "|".join(re.escape(n) for n in ordered) + r")(?![\w])")

def quoted_values(results: Iterable[MetricResult], locale: str) -> Iterator[float]:
    """The numbers of the metrics' own suppression notes ("n = 15 is below the minimum of
    30"), which the methodology quotes: the minimum is a setting the model keeps only there."""
    for r in results:
        notes = [r.suppressed, *(p.suppressed for p in r.history),
                 *(row.suppressed for rows in r.breakdowns.values() for row in rows)]
        for note in notes:
            for token in NUMBER.findall(note or ""):
                number, _ = parse_token(token, locale)
                if number is not None:
                    yield number


def is_number(name: str) -> bool:
    return name.replace(".", "", 1).isdigit()


def headline_values(results: Iterable[MetricResult]) -> Iterator[float]:
    """Each metric's figures a sentence about another may cite: value, n, target, change."""
    for r in results:
        for change in (r.change, r.year_over_year):
            if change is not None:
                yield from (v for v in (change.previous, change.delta, change.alpha)
                            if v is not None)
                yield float(change.previous_n)
        yield from (v for v in (r.value, r.target) if v is not None)
        yield float(r.n)
        if r.interval is not None:
            yield from (r.interval.low, r.interval.high, r.interval.level)


def structure_counts(model: ReportModel) -> list[float]:
    """Counts of what the model lists (findings, sections, actions, notes) and its settings
    (confidence levels and significance levels are in the metrics' intervals and changes)."""
    register = model.actions
    counts = [len(model.findings), len(model.sections), len(model.metrics),
              len(model.stat_notes), len(model.summary_kpis)]
    if register is not None:
        counts += [len(register.items), len(register.open), len(register.unowned),
                   sum(1 for i in register.open if i.overdue)]
    counts += [s.number for s in model.stat_notes]
    for result in model.metrics.values():
        # "Apr 26 to Jun 26: no data, 3 months": runs of history periods without a value
        run = 0
        for point in (*result.history, None):
            if point is not None and point.suppressed:
                run += 1
                continue
            if run:
                counts.append(run)
            run = 0
        # "2 segment(s) below the minimum n are not shown"
        counts += [sum(1 for row in rows if row.suppressed) for rows in result.breakdowns.values()]
    return [float(c) for c in counts]




def column_totals(data: Mapping[str, tuple[Any, ...]]) -> tuple[float, ...]:
    """The total of each numeric column a chart drew, and each value's share of it: a
    caption may say "1,303 cases" of the bars it drew, and "the largest (24%)"."""
    out: list[float] = []
    for column in data.values():
        drawn = [float(v) for v in column if isinstance(v, int | float)
                 and not isinstance(v, bool)]
        total = sum(drawn)
        if len(drawn) > 1 and total:
            out.append(total)
            out.extend(v / total for v in drawn)
    return tuple(out)
