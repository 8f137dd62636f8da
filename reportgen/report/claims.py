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

A count a sentence states as "N of M" ("2 of 9 queues are off target", "17 of 32 resolved")
is held to more than that: N and M must be stated together by what the sentence is about,
both found in one group of :func:`~reportgen.report.claim_values.count_groups` (the numbers
one finding, row or record holds side by side, the sizes of its lists; a metric's segments
counted by status).  Small counts are everywhere in a report (findings, sections, actions,
segment sizes), so each number alone would always find a value to hide behind: "2 of 9"
changed by hand to "4 of 9" must still be caught.  A sentence about nothing in particular
is checked number by number as before.

Where a sentence shows arithmetic (a change from one shown value to another, a difference
of two changes, parts of a total, a gap to a target), :mod:`reportgen.report.claim_arithmetic`
checks that the shown result is the arithmetic of the shown values.

``check_claims`` returns the disagreements, each located (where in the report, the
sentence, the number, what it was compared with); ``enforce_claims`` logs them, or raises
:class:`ClaimError` when strict (the environment variable ``REPORTGEN_STRICT_CLAIMS=1``,
which the test suite sets).  The model's values and names are gathered by
:mod:`reportgen.report.claim_values`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from reportgen import text
from reportgen.report.actions import ask_text, overdue_line
from reportgen.report.claim_arithmetic import SIGNED as _SIGNED
from reportgen.report.claim_arithmetic import parts_problem, relations
from reportgen.report.claim_values import (
    NUMBER,
    Pool,
    column_totals,
    count_groups,
    headline_values,
    is_number,
    model_names,
    model_numbers,
    name_masker,
    parse_token,
    quoted_values,
    structure_counts,
)
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.report_model import ReportModel
from reportgen.report.model.sections import Figure, Finding, Kpi

log = logging.getLogger(__name__)

#: The environment variable that makes a failed check raise instead of warn.
STRICT_ENV = "REPORTGEN_STRICT_CLAIMS"


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


# -- the sentences of a model ---------------------------------------------------------------

def _finding_claims(where: str, finding: Finding, metrics: Mapping[str, MetricResult],
                    ) -> Iterator[Claim]:
    scope = (metrics.get(finding.metric_id), finding.numbers)
    name = f"{where} finding {finding.metric_id}/{finding.kind}"
    yield Claim(name, finding.sentence, scope)
    if finding.detail:
        yield Claim(f"{name} (detail)", finding.detail, scope)


def _kpi_claims(where: str, kpi: Kpi) -> Iterator[Claim]:
    # the change a tile states is the difference of the shown values, as a finding's is
    about = (kpi.metric, {"shown_delta": kpi.shown_delta})
    for field in ("value_text", "delta_text", "interval_text", "n_text", "target_text",
                  "significance_text", "significance_detail"):
        sentence = getattr(kpi, field)
        if sentence:
            yield Claim(f"{where} tile {kpi.metric.metric_id}.{field}", sentence, about)
    if kpi.sparkline is not None:
        yield Claim(f"{where} tile {kpi.metric.metric_id} sparkline", kpi.sparkline.alt_text,
                    (kpi.metric,))


def _scorecard_claims(model: ReportModel) -> Iterator[Claim]:
    """The scorecard's cells, each about its metric (whose breakdown row it shows)."""
    card = model.scorecard
    if card is None:
        return
    about = {c.metric_id: model.metrics.get(c.metric_id) for c in card.columns}
    for column in card.columns:
        if column.target_text:
            yield Claim(f"scorecard {column.metric_id} target", column.target_text,
                        (about[column.metric_id],))
    for row in card.rows:
        for cell in row.cells:
            where = f"scorecard {row.label}/{cell.metric_id}"
            for field, sentence in (("value", cell.value_text), ("change", cell.change_text),
                                    ("sparkline", cell.sparkline.alt_text
                                     if cell.sparkline else "")):
                if sentence:
                    yield Claim(f"{where} {field}", sentence, (about[cell.metric_id], cell))
    for field in ("note", "trend_note", "glyph_note"):
        if getattr(card, field):
            yield Claim(f"scorecard {field}", getattr(card, field), tuple(about.values()))
    if card.line:
        # the line the Slack and Teams posts carry: its cells' texts and the counts it states
        yield Claim("messages scorecard line", card.line,
                    (*about.values(), card.rows, card.line_numbers))


def claims_of(model: ReportModel) -> Iterator[Claim]:
    """Every sentence of ``model`` a reader sees, with where it is and what it is about."""
    metrics = model.metrics
    for finding in model.findings:
        yield from _finding_claims("summary", finding, metrics)
    for kpi in model.summary_kpis:
        yield from _kpi_claims("summary", kpi)
    if model.steady_text:
        yield Claim("summary steady", model.steady_text)
    yield from _scorecard_claims(model)
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
            for i, headline in enumerate(table.headlines):
                # its rows' values as the cells hold them, the counts it states, the target
                yield Claim(f"{where} table {table.id} slide title {i + 1}", headline,
                            (table.rows, table.headline_numbers))
        for figure in section.figures:
            drawn = (figure.data, figure.native.series if figure.native else (),
                     column_totals(figure.data))
            for field, sentence in (("caption", figure.caption), ("alt text", figure.alt_text),
                                    ("native caption", figure.native.caption
                                     if figure.native else ""),
                                    ("native alt text", figure.native.alt_text
                                     if figure.native else "")):
                if sentence:
                    yield Claim(f"{where} figure {figure.id} {field}", sentence, drawn)
            yield from _headline_claims(f"{where} figure {figure.id}", figure, model)
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
        yield Claim(f"restatement {i + 1}", line, (model.restated_from, model.metrics))
    yield from _action_claims(model)
    if model.readout is not None:
        # a readout line repeats a finding (and its action): it is about what they are about
        findings = (*model.findings, *(f for s in model.sections for f in s.findings))
        for part in ("wins", "risks", "initiatives", "asks"):
            for i, item in enumerate(getattr(model.readout, part)):
                about = next((f for f in findings if f.sentence in item.text), None)
                scope = () if about is None else (metrics.get(about.metric_id), about.numbers)
                yield Claim(f"readout {part} {i + 1}", item.text, scope)


def _headline_claims(where: str, figure: Figure, model: ReportModel) -> Iterator[Claim]:
    """A chart's slide titles: about the finding they are cut from."""
    findings = (*model.findings, *(f for s in model.sections for f in s.findings))
    about = next((f for f in findings if f.sentence == figure.headline_of), None)
    # a title no finding gave states its chart's metric (a value, a segment's value)
    scope = (model.metrics.get(figure.metric_id), figure.headline_numbers) if about is None \
        else (model.metrics.get(about.metric_id), about.numbers, figure.headline_numbers)
    for i, headline in enumerate(figure.headlines):
        yield Claim(f"{where} slide title {i + 1}", headline, scope)


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


# -- the check ------------------------------------------------------------------------------

def check_claims(model: ReportModel) -> list[ClaimProblem]:
    """Every number of ``model``'s sentences that no model value explains, and every shown
    sum or difference that does not match the shown values it relates."""
    locale = model.locale
    dates: set[date] = set()
    found: dict[int, list[float]] = {}
    pools: dict[int, Pool] = {}
    grouped: dict[int, list[frozenset[float]]] = {}
    held: list[object] = []  # what the caches are keyed on stays alive (ids are not reused)

    def values(source: object) -> list[float]:
        if id(source) not in found:  # each part of the model is read once
            held.append(source)
            found[id(source)] = []
            model_numbers(source, found[id(source)], dates)
        return found[id(source)]

    def groups(source: object) -> list[frozenset[float]]:
        if id(source) not in grouped:
            held.append(source)
            grouped[id(source)] = []
            count_groups(source, grouped[id(source)])
        return grouped[id(source)]

    def pool(source: object) -> Pool:
        if id(source) not in pools:
            pools[id(source)] = Pool(values(source))
        return pools[id(source)]

    everything: list[object] = [*model.metrics.values(), model.actions,
                                model.provenance.quality_counts, model.check_values, *(
        f.numbers for f in (*model.findings, *(f for s in model.sections for f in s.findings)))]
    for section in model.sections:
        everything += [table.rows for table in section.tables]
        everything += [figure.data for figure in section.figures]
    gathered = [v for source in everything for v in values(source)]  # and every date
    names = model_names(model, dates)
    years = {str(day.year) for day in dates}
    headline = Pool([*structure_counts(model), *headline_values(model.metrics.values()),
                     *quoted_values(model.metrics.values(), locale),
                     *(float(n) for n in names if is_number(n) and n not in years)])
    whole = [Pool(gathered), headline]
    masker = name_masker([n for n in names if not is_number(n) or n in years])
    problems: list[ClaimProblem] = []
    for claim in claims_of(model):
        masked = claim.sentence if masker is None else masker.sub("¤", claim.sentence)
        against = [pool(s) for s in claim.scope if s is not None] + [headline] \
            if claim.scope else whole
        derived: set[int] = set()
        for match in _COUNT_OF.finditer(masked) if claim.scope else ():
            (count, places), (whole_count, whole_places) = (
                parse_token(match.group(k), locale) for k in ("n", "m"))
            if count is None or whole_count is None or places or whole_places:
                continue  # "1.5 of 3 hours" is a quantity, not a count
            derived.add(match.end("n"))
            if not any(count in group and whole_count in group for source in claim.scope
                       if source is not None for group in groups(source)):
                problems.append(ClaimProblem(
                    claim.where, claim.sentence, match.group("n"),
                    f"in “{match.group()}” is no count stated with {match.group('m')} by what "
                    "the sentence is about"))
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


#: a count of a whole, as the text authority writes it ("2 of 9 queues", "89 of the 781")
_COUNT_OF = re.compile(rf"(?P<n>{NUMBER.pattern}) of (?:the )?(?P<m>{NUMBER.pattern})")


#: a part of a change, as a driver finding writes it ("... accounts for −0.6 points")
_PART = re.compile(rf"(?:accounts for|changes within them for) (?P<d>{_SIGNED})")


def _parts(claim: Claim, masked: str, locale: str) -> Iterator[tuple[int, int, str, str | None]]:
    """The parts a change is split into, against the change as the text authority writes it:
    shown parts add up to the shown total (``text.shown_parts``)."""
    if len(claim.scope) < 2 or not isinstance(claim.scope[0], MetricResult) \
            or not isinstance(claim.scope[1], Mapping) or "total" not in claim.scope[1]:
        return
    found = list(_PART.finditer(masked))
    # the change the parts split, as the sentence shows it (read off the two shown values)
    total = claim.scope[1].get("shown_total", claim.scope[1]["total"])
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


def enforce_claims(model: ReportModel) -> list[ClaimProblem]:
    """Check ``model``: each problem logged as a located warning, or (strict) ClaimError."""
    problems = check_claims(model)
    if problems and strict():
        raise ClaimError(model.report_id, problems)
    for problem in problems:
        log.warning("report %s: claim not traceable: %s", model.report_id, problem)
    return problems
