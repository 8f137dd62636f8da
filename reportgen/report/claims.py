"""The claim checker: every number a reader sees must be traceable to a value of the model.

It reads only the finished :class:`ReportModel`.  Every sentence a reader sees (the summary's
and the sections' findings, tiles, table notes, chart captions and alt texts, the action
register and the line the messages carry, the readout, the methodology, the statistical
notes, warnings and data-quality notes) is cut into number tokens, and each token must be
what the text authority writes for a value of the model at the token's own rounding: a
metric's value, interval, n, previous value, change, target, breakdown row, history, the
numbers a finding was written from, a table cell, a chart's data, or the size of a list the
model holds.  Dates and period labels are traced the same way (each date of the model
written by :mod:`reportgen.text.dates`), and names (metric labels, segments, chart titles,
what an action's owner wrote) are read as names, not as numbers.

Where a sentence shows arithmetic (a change from one shown value to another, a difference
of two changes, parts of a total, a gap to a target), :mod:`reportgen.report.claim_arithmetic`
checks that the shown result is the arithmetic of the shown values.

``check_claims`` returns the disagreements, each located (where in the report, the
sentence, the number, what it was compared with); ``enforce_claims`` logs them, or raises
:class:`ClaimError` when strict (settings ``REPORTGEN_STRICT_CLAIMS=1``, which the test
suite sets).
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import numbers
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import numpy as np

from reportgen import text
from reportgen.report.actions import ask_text, overdue_line
from reportgen.report.claim_arithmetic import SIGNED as _SIGNED
from reportgen.report.claim_arithmetic import parts_problem, relations
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.report_model import ReportModel
from reportgen.report.model.sections import Finding, Kpi

log = logging.getLogger(__name__)

#: The environment variable that makes a failed check raise instead of warn.
STRICT_ENV = "REPORTGEN_STRICT_CLAIMS"

#: A number as the text authority writes it in any locale: digits, with group and decimal
#: separators between digits; a number glued to letters (``AU07``, ``W36``, ``AC1``) is an
#: identifier, not a quantity.
NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,\u00a0\u202f']\d+)*(?![\w])")
#: Values of a model: a value, and for a fraction the same as a percentage / points.
_SCALES = (1.0, 100.0)


@dataclass(frozen=True)
class Claim:
    """A sentence a reader sees, where it is, and the values it may draw on."""

    where: str
    sentence: str
    #: what the sentence is about (a metric, a finding's numbers, a chart's data): the values
    #: it may state, besides the report's headline figures; none: any value of the report
    scope: tuple[object, ...] = ()


@dataclass(frozen=True)
class ClaimProblem:
    """A number that is not traceable, or shown arithmetic that does not add up."""

    where: str
    sentence: str
    number: str
    compared: str

    def __str__(self) -> str:
        return f"{self.where}: {self.number!r} {self.compared} — in “{self.sentence}”"


class ClaimError(AssertionError):
    """Strict mode: the report states numbers its model does not hold."""

    def __init__(self, report_id: str, problems: list[ClaimProblem]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"report {report_id!r}: {len(problems)} claim(s) not traceable to "
                         f"the model:\n{lines}{more}")


def strict() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


# -- the values of a model ------------------------------------------------------------------

def _numbers(value: object, out: list[float], dates: set[date], depth: int = 0) -> None:
    """Every number (and every date) held in ``value``, however nested."""
    kind = type(value)
    if kind is float or kind is int:
        out.append(value)  # type: ignore[arg-type]
        return
    if value is None or kind is bool or depth > 8:
        return
    if kind is str:
        if value[:1].isdigit():  # type: ignore[index]
            found = _iso_date(value)  # type: ignore[arg-type]
            if found is not None:
                dates.add(found)
    elif isinstance(value, Mapping):
        for item in value.values():
            _numbers(item, out, dates, depth + 1)
    elif kind is list or kind is tuple or isinstance(value, set | frozenset | list | tuple):
        out.append(len(value))  # type: ignore[arg-type]  # "for 12 auditors"
        for item in value:  # type: ignore[attr-defined]
            _numbers(item, out, dates, depth + 1)
    elif isinstance(value, datetime):
        dates.add(value.date())
    elif isinstance(value, date):
        dates.add(value)
    elif dataclasses.is_dataclass(value):
        for name in _field_names(kind):
            _numbers(getattr(value, name), out, dates, depth + 1)
        if isinstance(value, MetricResult) and value.change and value.change.previous \
                and value.change.delta is not None:
            # a count's change is also written relative to its previous value (+9.1%)
            out.append(value.change.delta / value.change.previous)
    elif isinstance(value, numbers.Real):  # numpy's numbers
        out.append(float(value))


@lru_cache(maxsize=128)
def _field_names(kind: type) -> tuple[str, ...]:
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
    """Sorted values, searched for one that the text authority writes as a token."""

    def __init__(self, values: Iterable[float]):
        found = np.abs(np.fromiter(values, dtype=float))
        found = found[np.isfinite(found)]
        self.values = np.unique(np.concatenate([found * scale for scale in _SCALES]))

    def holds(self, token: str, locale: str) -> bool:
        """Whether a value is written as ``token`` at the token's decimals."""
        number, decimals = _parse(token, locale)
        if number is None:
            return False
        half = 0.5 * 10.0 ** -decimals
        start, end = np.searchsorted(self.values, [number - half - 1e-9, number + half + 1e-9])
        return any(_written(float(v), decimals, locale) == token
                   for v in self.values[start:end])


@lru_cache(maxsize=4096)
def _written(number: float, decimals: int, locale: str) -> str:
    return text.decimal(number, decimals, locale)


@lru_cache(maxsize=4096)
def _parse(token: str, locale: str) -> tuple[float | None, int]:
    """A token as a number and its decimals, by the locale's separators."""
    symbols = text.locales.parse_locale(locale).number_symbols.get("latn", {})
    group, point = symbols.get("group", ","), symbols.get("decimal", ".")
    digits = token.replace(group, "").replace("\u00a0", "").replace("\u202f", "")
    whole, _, fraction = digits.partition(point)
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        return None, 0
    return float(f"{whole}.{fraction or 0}"), len(fraction)


# -- the sentences of a model ---------------------------------------------------------------

def _finding_claims(where: str, finding: Finding, metrics: Mapping[str, MetricResult],
                    ) -> Iterator[Claim]:
    scope = (metrics.get(finding.metric_id), finding.numbers)
    name = f"{where} finding {finding.metric_id}/{finding.kind}"
    yield Claim(name, finding.sentence, scope)
    if finding.detail:
        yield Claim(f"{name} (detail)", finding.detail, scope)


def _kpi_claims(where: str, kpi: Kpi) -> Iterator[Claim]:
    for field in ("value_text", "delta_text", "interval_text", "n_text", "target_text",
                  "significance_text", "significance_detail"):
        sentence = getattr(kpi, field)
        if sentence:
            yield Claim(f"{where} tile {kpi.metric.metric_id}.{field}", sentence, (kpi.metric,))


def claims_of(model: ReportModel) -> Iterator[Claim]:
    """Every sentence of ``model`` a reader sees, with where it is and what it is about."""
    metrics = model.metrics
    for finding in model.findings:
        yield from _finding_claims("summary", finding, metrics)
    for kpi in model.summary_kpis:
        yield from _kpi_claims("summary", kpi)
    if model.steady_text:
        yield Claim("summary steady", model.steady_text)
    for section in model.sections:
        where = f"section {section.id}"
        for finding in section.findings:
            yield from _finding_claims(where, finding, metrics)
        for kpi in section.kpis:
            yield from _kpi_claims(where, kpi)
        if section.steady_text:
            yield Claim(f"{where} steady", section.steady_text)
        for table in section.tables:
            if table.note:
                yield Claim(f"{where} table {table.id} note", table.note, (table,))
        for figure in section.figures:
            drawn = (figure.data, figure.native.series if figure.native else ())
            for field, sentence in (("caption", figure.caption), ("alt text", figure.alt_text),
                                    ("native caption", figure.native.caption
                                     if figure.native else "")):
                if sentence:
                    yield Claim(f"{where} figure {figure.id} {field}", sentence, drawn)
    for note in model.methodology:
        lines = {"test": note.test, "n_text": note.n_text,
                 **{f"suppressed[{i}]": line for i, line in enumerate(note.suppressed)}}
        for field, sentence in lines.items():
            yield Claim(f"methodology {note.metric_id}.{field}", sentence,
                        (metrics.get(note.metric_id),))
    for stat in model.stat_notes:
        yield Claim(f"statistical note {stat.number}", stat.detail)
    for i, line in enumerate(model.warnings):
        yield Claim(f"warning {i + 1}", line)
    for i, line in enumerate(model.provenance.data_quality):
        yield Claim(f"data-quality note {i + 1}", line)
    for i, line in enumerate(model.restatements):
        yield Claim(f"restatement {i + 1}", line)
    yield from _action_claims(model)
    if model.readout is not None:
        # a readout line repeats a finding (and its action): it is about what they are about
        findings = (*model.findings, *(f for s in model.sections for f in s.findings))
        for part in ("wins", "risks", "initiatives", "asks"):
            for i, item in enumerate(getattr(model.readout, part)):
                about = next((f for f in findings if f.sentence in item.text), None)
                scope = () if about is None else (metrics.get(about.metric_id), about.numbers)
                yield Claim(f"readout {part} {i + 1}", item.text, scope)


def _action_claims(model: ReportModel) -> Iterator[Claim]:
    register = model.actions
    if register is None:
        return
    for item in register.items:
        scope = (model.metrics.get(item.metric_id), item, *(
            f.numbers for f in (*model.findings, *(f for s in model.sections for f in s.findings))
            if f.metric_id == item.metric_id))
        for field in ("target_text", "movement_text", "due_text"):
            sentence = getattr(item, field)
            if sentence:
                yield Claim(f"action {item.id}.{field}", sentence, scope)
        if item.status == "open":
            yield Claim(f"action {item.id} ask", ask_text(item), scope)
    line = overdue_line(register)
    if line:
        yield Claim("messages action line", line)


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


def _names(model: ReportModel, dates: set[date]) -> list[str]:
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
            if figure.native is not None:
                names.update(figure.native.categories)
                names.update(s.name for s in figure.native.series)
    for finding in (*model.findings, *(f for s in model.sections for f in s.findings)):
        names.add(finding.tag)
        _strings(finding.numbers, names)
    for stat in model.stat_notes:
        names.add(stat.label)
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


def _masker(names: list[str]) -> re.Pattern[str] | None:
    """A pattern for every name, whole (``2026`` is not masked inside ``20261202``)."""
    if not names:
        return None
    ordered = sorted(set(names), key=len, reverse=True)
    return re.compile(r"(?<![\w.,])(?:" + "|".join(re.escape(n) for n in ordered) + r")(?![\w])")


# -- the check ------------------------------------------------------------------------------

def check_claims(model: ReportModel) -> list[ClaimProblem]:
    """Every number of ``model``'s sentences that no model value explains, and every shown
    sum or difference that does not match the shown values it relates."""
    locale = model.locale
    dates: set[date] = set()
    pools: dict[int, Pool] = {}

    def pool(source: object) -> Pool:
        if id(source) not in pools:
            values: list[float] = []
            _numbers(source, values, dates)
            pools[id(source)] = Pool(values)
        return pools[id(source)]

    everything: list[object] = [model.metrics, model.actions, *(
        f.numbers for f in (*model.findings, *(f for s in model.sections for f in s.findings)))]
    for section in model.sections:
        everything += [table.rows for table in section.tables]
        everything += [figure.data for figure in section.figures]
    whole = [pool(source) for source in everything]  # gathers every date too
    names = _names(model, dates)
    years = {str(day.year) for day in dates}
    headline = Pool([*_structure(model), *_headline(model.metrics.values()),
                     *_quoted(model.metrics.values(), locale),
                     *(float(n) for n in names if _is_number(n) and n not in years)])
    whole.append(headline)
    masker = _masker([n for n in names if not _is_number(n) or n in years])
    problems: list[ClaimProblem] = []
    for claim in claims_of(model):
        masked = claim.sentence if masker is None else masker.sub("¤", claim.sentence)
        against = [pool(s) for s in claim.scope if s is not None] + [headline] \
            if claim.scope else whole
        derived: set[int] = set()
        for _, end, number, disagrees in (*relations(masked, locale),
                                          *_parts(claim, masked, locale)):
            derived.add(end)  # a shown result of shown values: checked as arithmetic
            if disagrees is not None:
                problems.append(ClaimProblem(claim.where, claim.sentence, number, disagrees))
        for match in NUMBER.finditer(masked):
            token = match.group()
            if match.end() in derived or any(p.holds(token, locale) for p in against):
                continue
            problems.append(ClaimProblem(
                claim.where, claim.sentence, token,
                "is no value of the model at this rounding (compared with "
                + ("the values of what it is about and the report's headline figures)"
                   if claim.scope else "every value of the report)")))
    return problems


#: a part of a change, as a driver finding writes it ("... accounts for −0.6 points")
_PART = re.compile(rf"(?:accounts for|changes within them for) (?P<d>{_SIGNED})")


def _parts(claim: Claim, masked: str, locale: str) -> Iterator[tuple[int, int, str, str | None]]:
    """The parts a change is split into, against the change as the text authority writes it:
    shown parts add up to the shown total (``text.shown_parts``)."""
    if len(claim.scope) < 2 or not isinstance(claim.scope[0], MetricResult) \
            or not isinstance(claim.scope[1], Mapping) or "total" not in claim.scope[1]:
        return
    found = list(_PART.finditer(masked))
    total = claim.scope[1]["total"]
    if len(found) < 2 or not isinstance(total, int | float):
        return
    written = text.signed_change_words(total, claim.scope[0].unit, locale)
    head = re.match(_SIGNED, written)
    if head is None:
        return
    parts = [m.group("d") for m in found]
    disagrees = parts_problem(head.group(), parts, locale)
    for match in found:
        yield match.start("d"), match.end("d"), match.group("d"), (
            None if disagrees is None else f"is one of parts that disagree with the change "
            f"they split, {written}: {disagrees}")


def _quoted(results: Iterable[MetricResult], locale: str) -> Iterator[float]:
    """The numbers of the metrics' own suppression notes ("n = 15 is below the minimum of
    30"), which the methodology quotes: the minimum is a setting the model keeps only there."""
    for r in results:
        notes = [r.suppressed, *(p.suppressed for p in r.history),
                 *(row.suppressed for rows in r.breakdowns.values() for row in rows)]
        for note in notes:
            for token in NUMBER.findall(note or ""):
                number, _ = _parse(token, locale)
                if number is not None:
                    yield number


def _is_number(name: str) -> bool:
    return name.replace(".", "", 1).isdigit()


def _headline(results: Iterable[MetricResult]) -> Iterator[float]:
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


def _structure(model: ReportModel) -> list[float]:
    """Counts of what the model lists (findings, sections, actions, notes) and its settings
    (confidence levels and significance levels are in the metrics' intervals and changes)."""
    register = model.actions
    counts = [len(model.findings), len(model.sections), len(model.metrics),
              len(model.stat_notes), len(model.summary_kpis)]
    if register is not None:
        counts += [len(register.items), len(register.open), len(register.unowned),
                   sum(1 for i in register.open if i.overdue)]
    counts += [s.number for s in model.stat_notes]
    for result in model.metrics.values():  # "2 segment(s) below the minimum n are not shown"
        counts += [sum(1 for row in rows if row.suppressed) for rows in result.breakdowns.values()]
    return [float(c) for c in counts]


def enforce_claims(model: ReportModel) -> list[ClaimProblem]:
    """Check ``model``: each problem logged as a located warning, or (strict) ClaimError."""
    problems = check_claims(model)
    if problems and strict():
        raise ClaimError(model.report_id, problems)
    for problem in problems:
        log.warning("report %s: claim not traceable: %s", model.report_id, problem)
    return problems
