"""The workbook's cells: what kind of number a cell holds, its Excel number format, and
text that stays text.

A cell's *kind* is the unit of its number (``percent``, ``score``, ``count``...), the change
of one (``change:percent``), a date kind (``date``, ``month``, ``datetime``), ``p_value``
or ``boolean``; ``None`` for text.  Formats follow the text authority's decimals per unit
(:data:`reportgen.text.number.DECIMALS`), so a cell reads as the PDF does, and widen a
column's decimals when fewer would show two different values as the same (0.21 and 0.24
are never both "0.2").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, MergedCell

from reportgen.text.number import DECIMALS

DATE_FORMAT = "yyyy-mm-dd"
MONTH_FORMAT = "mmm yyyy"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
P_VALUE_FORMAT = "0.0000"
#: A yes/no cell stays a boolean (TRUE in Excel); LibreOffice, which would print 1, says Yes.
BOOLEAN_FORMAT = '"Yes";"Yes";"No"'

#: Units whose numbers are shown with thousands separators.
_GROUPED = frozenset({"count", "seconds", "minutes", "hours"})
#: Units whose changes are points (a rate's percentage points, a score's points).
_POINTS = frozenset({"percent", "score", "points"})
#: The most decimals a column widens to beyond its unit's own.
_EXTRA_DECIMALS = 1
#: Text that a spreadsheet would read as the start of a formula, or as an error value.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ERROR_VALUES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})
_MONTH_KEY = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")
_QUARTER_KEY = re.compile(r"^(\d{4})-Q([1-4])$")
_DAY_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Kind = str | None


def unit_kind(unit: str | None) -> str:
    """The kind of a value in ``unit`` (a plain number when the unit is unknown)."""
    return unit if unit in DECIMALS else "number"


def number_format(kind: Kind, values: Iterable[Any] = ()) -> str | None:
    """The Excel number format for cells of ``kind`` holding ``values``.

    The unit's own decimals, or more when fewer would show two distinct values alike.
    """
    if kind is None:
        return None
    if kind in ("date", "month", "datetime", "p_value", "boolean"):
        return {"date": DATE_FORMAT, "month": MONTH_FORMAT, "datetime": DATETIME_FORMAT,
                "p_value": P_VALUE_FORMAT, "boolean": BOOLEAN_FORMAT}[kind]
    change = kind.startswith("change:")
    unit = kind.removeprefix("change:")
    scale = 100.0 if unit == "percent" and not change else 1.0
    places = _places(unit, [v * scale for v in values
                            if isinstance(v, int | float) and not isinstance(v, bool)])
    digits = "0." + "0" * places if places else "0"
    if change or unit == "points":  # a difference of rates is signed points, as a change
        body = digits + ('" pts"' if unit in _POINTS else "")
        if unit in _GROUPED:
            body = "#,##" + body
        return f"+{body};-{body};{body}"
    if unit == "percent":
        return digits + "%"
    return "#,##" + digits if unit in _GROUPED else digits


def _places(unit: str, shown: Sequence[float]) -> int:
    base = DECIMALS.get(unit, 2)
    finite = [v for v in shown if math.isfinite(v)]
    distinct = len({round(v, base + _EXTRA_DECIMALS) for v in finite})
    for places in range(base, base + _EXTRA_DECIMALS + 1):
        if len({round(v, places) for v in finite}) >= distinct:
            return places
    return base + _EXTRA_DECIMALS


def column_formats(kinds: Sequence[Sequence[Kind]], rows: Sequence[Sequence[Any]],
                   groups: Sequence[object] | None = None) -> list[list[str | None]]:
    """Each cell's format: one per kind within a group of rows, widened over all its values.

    A value, its interval's ends, its target and its previous value share one format, so
    they read alike; a group is what is compared (a metric's history; one row of the
    metrics sheet, whose rows are different metrics; a whole table).
    """
    keys = list(groups) if groups is not None else [None] * len(rows)
    values: dict[tuple[object, str], list[Any]] = {}
    for group, row_kinds, row in zip(keys, kinds, rows, strict=True):
        for kind, value in zip(row_kinds, row, strict=True):
            if kind is not None and value is not None:
                values.setdefault((group, kind), []).append(value)
    formats = {key: number_format(key[1], found) for key, found in values.items()}
    return [[formats.get((group, kind)) if kind is not None else None for kind in row_kinds]
            for group, row_kinds in zip(keys, kinds, strict=True)]


def typed(value: Any, kind: Kind) -> Any:
    """``value`` as the cell type its kind says: integral counts as ints, NaN as empty."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None  # an empty cell, not an error value
    if kind == "count" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "points" and isinstance(value, int | float):
        return value * 100  # a difference of rates, stored as points like a rate's change
    if isinstance(value, datetime):
        return naive_utc(value)
    return value


def write_value(cell: Cell | MergedCell, value: Any) -> None:
    """Put ``value`` in ``cell``; text stays text, whatever it starts with.

    openpyxl turns a string starting with ``=`` into a formula and ``#N/A`` into an error
    value: data from a source could then run as a formula when the workbook is opened. Such
    text is stored as a string with Excel's quote prefix, so it also stays text when edited.
    """
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
        cell.value = value
        if value.startswith(_FORMULA_START) or value in _ERROR_VALUES:
            cell.data_type = "s"
            cell.quotePrefix = True
        return
    if value is not None and not isinstance(value, int | float | date | datetime):
        value = str(value)
    cell.value = value


def period_date(key: str) -> date | None:
    """The first day of a period key (``2026-09``, ``2026-W37``, ``2026-Q3``, ``2026-09-14``)."""
    if match := _MONTH_KEY.match(key):
        return date(int(match[1]), int(match[2]), 1)
    if match := _WEEK_KEY.match(key):
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    if match := _QUARTER_KEY.match(key):
        return date(int(match[1]), 3 * int(match[2]) - 2, 1)
    if _DAY_KEY.match(key):
        try:
            return date.fromisoformat(key)
        except ValueError:
            return None
    return None


def period_kind(key: str) -> str:
    """``month`` for a month's key (shown ``Sep 2026``), else ``date`` (its first day)."""
    return "month" if _MONTH_KEY.match(key) else "date"


def naive_utc(moment: datetime) -> datetime:
    """``moment`` in UTC without a zone: Excel has none, so the workbook says UTC instead."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
