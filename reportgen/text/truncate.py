"""Long text in tables and labels: cut with an ellipsis, the full text in a footnote.

A segment name can be anything a data export holds (a pasted e-mail thread, a 100,000-
character category).  Tables and chart labels show at most ``LABEL_CHARS`` characters of
it, ending in "…" and a superscript mark; the mark's footnote under the table gives the
text in full up to ``FOOTNOTE_CHARS`` characters (a footnote pages long helps nobody, and
its length is said instead).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from reportgen.text.number import count

if TYPE_CHECKING:
    from reportgen.report.model.metric_results import MetricResult

#: the most characters of a label shown in a table cell or on a chart axis
LABEL_CHARS = 40
#: the most characters of the full text a footnote repeats
FOOTNOTE_CHARS = 300
ELLIPSIS = "…"
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def superscript(n: int) -> str:
    """``12`` -> ``¹²``."""
    return str(n).translate(_SUPERSCRIPT)


def shorten(value: str, limit: int = LABEL_CHARS) -> str:
    """``value`` in at most ``limit`` characters: cut at a word boundary when one is near
    the limit (else mid-word, as a single very long word must be), ending in an ellipsis."""
    flat = " ".join(value.split())
    if len(flat) <= limit:
        return flat
    head = flat[: max(1, limit - 1)]
    space = head.rfind(" ")
    if space >= limit * 2 // 3:
        head = head[:space]
    return head.rstrip(" ,;:-") + ELLIPSIS


@dataclass(frozen=True)
class Footnoted:
    """Texts as shown (cut ones marked) and the footnotes giving them in full."""

    texts: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...]

    def text(self, row: int, column: int) -> str:
        return self.texts[row][column]


def footnote(mark: int, full: str) -> str:
    """``¹ The full text…`` (itself cut past ``FOOTNOTE_CHARS``, with the full length said)."""
    flat = " ".join(full.split())
    if len(flat) <= FOOTNOTE_CHARS:
        return f"{superscript(mark)} {flat}"
    return (f"{superscript(mark)} {shorten(flat, FOOTNOTE_CHARS)} "
            f"({count(len(flat))} characters in all)")


def footnoted(rows: Iterable[Sequence[str]], limit: int = LABEL_CHARS,
              first_mark: int = 1) -> Footnoted:
    """Every text of ``rows`` shortened to ``limit``; each cut one gets a mark and a
    footnote (one per distinct text, so a repeated name is explained once)."""
    marks: dict[str, int] = {}
    texts: list[tuple[str, ...]] = []
    for row in rows:
        shown = []
        for value in row:
            value = str(value)
            if len(" ".join(value.split())) <= limit:
                shown.append(value)
                continue
            mark = marks.setdefault(value, first_mark + len(marks))
            shown.append(shorten(value, limit) + superscript(mark))
        texts.append(tuple(shown))
    notes = tuple(footnote(mark, full) for full, mark in marks.items())
    return Footnoted(tuple(texts), notes)


#: where each result keeps the footnotes of the segment names it shortened (mark -> note)
SHORTENED = "shortened_names"
#: the whole length of each shortened name, which its footnote states
SHORTENED_LENGTHS = "shortened_name_lengths"


def shorten_segments(results: Mapping[str, MetricResult]) -> dict[str, MetricResult]:
    """Every breakdown segment name longer than ``LABEL_CHARS`` cut with an ellipsis and a
    mark numbered across the report, so tables, chart labels and sentences all show the
    same short name; each result keeps its names' footnotes in ``details``.

    Names are cut once, here, rather than where each is shown: a 100,000-character name
    in a sentence would otherwise run off the page (or take minutes to lay out).
    """
    marks: dict[str, int] = {}

    def short(part: str) -> str:
        if len(part) <= LABEL_CHARS:
            return part
        mark = marks.setdefault(part, len(marks) + 1)
        return shorten(part, LABEL_CHARS) + superscript(mark)

    out: dict[str, MetricResult] = {}
    for metric_id, result in results.items():
        if not any(len(part) > LABEL_CHARS for rows in result.breakdowns.values()
                   for row in rows for part in row.key):
            out[metric_id] = result
            continue
        before = set(marks)
        breakdowns = {name: tuple(replace(row, key=tuple(short(p) for p in row.key))
                                  for row in rows)
                      for name, rows in result.breakdowns.items()}
        mine = {full: marks[full] for full in marks if full not in before} | \
            {full: mark for full, mark in marks.items() if full in before and any(
                full in row.key for rows in result.breakdowns.values() for row in rows)}
        notes = {superscript(mark): footnote(mark, full)
                 for full, mark in sorted(mine.items(), key=lambda item: item[1])}
        lengths = {superscript(mark): len(" ".join(full.split())) for full, mark in mine.items()}
        out[metric_id] = replace(result, breakdowns=breakdowns,
                                 details={**result.details, SHORTENED: notes,
                                          SHORTENED_LENGTHS: lengths})
    return out


def shortened_notes(results: Mapping[str, MetricResult]) -> list[str]:
    """The footnotes of every shortened segment name of the report, once each, in order."""
    notes: dict[str, str] = {}
    for result in results.values():
        notes.update(result.details.get(SHORTENED, {}))
    return [f"Segment name shortened in this report: {note}" for note in notes.values()]
