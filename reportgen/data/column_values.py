"""How a raw cell becomes the value a definition declares, as SQL expressions.

Text, numbers (a placeholder such as "N/A" read as no value), whole numbers, true/false
flags, dates, values mapped by the definition's ``values:``, and text without control
characters; each runs where the data lives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from reportgen.data.connectors import CONTROL_CLASS, PLACEHOLDERS, RawRelation

_TRUE = ("1", "true", "t", "yes", "y", "1.0")
_FALSE = ("0", "false", "f", "no", "n", "0.0")


def text(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    return sa.cast(expr, sa.String)


def try_number(expr: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The value as a float, or NULL where it is not a number (DuckDB); a plain cast elsewhere."""
    if dialect == "duckdb":
        return sa.func.try_cast(sa.literal_column(f"({_sql(expr, dialect)}) AS DOUBLE"))
    return sa.cast(expr, sa.Double)


def _sql(expr: ColumnElement[Any], dialect: str) -> str:
    from sqlalchemy.dialects import postgresql

    # DuckDB speaks PostgreSQL's SQL; TRY_CAST needs its operand as text in the call.
    # SQLAlchemy leaves the dialect's constructor unannotated
    dialect_ = postgresql.dialect()  # type: ignore[no-untyped-call]
    return str(expr.compile(dialect=dialect_, compile_kwargs={"literal_binds": True}))


def placeholder(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """The condition "the text stands for no value" (NaN, null, N/A, -; any case)."""
    return sa.func.lower(sa.func.trim(text(expr))).in_(PLACEHOLDERS)


def without_placeholder(expr: ColumnElement[Any], raw: RawRelation,
                        raw_name: str | None = None) -> ColumnElement[Any]:
    """A text-typed source's value with placeholders read as NULL (a number column);
    ``raw_name``: the raw column it is, whose native type may say it is no text."""
    if not raw.text_typed or (raw_name is not None and raw.native.get(raw_name) == "number"):
        return expr
    return sa.case((placeholder(expr), sa.null()), else_=expr)


def flag_of_text(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """1, 0 or NULL from 1/0, true/false, yes/no text (any case, spaces trimmed)."""
    value = sa.func.lower(sa.func.trim(text(expr)))
    return sa.case((value.in_(_TRUE), 1), (value.in_(_FALSE), 0), else_=sa.null())

def printable(value: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The text ``value`` without CONTROL_CHARACTERS (unchanged on a database with neither
    regular expressions nor our SQLite function)."""
    if dialect in ("duckdb", "postgresql"):
        return sa.func.regexp_replace(value, sa.literal(CONTROL_CLASS), sa.literal(""),
                                      sa.literal("g"))
    if dialect == "sqlite":
        return sa.func.reportgen_printable(value)
    return value

def mapped(value: ColumnElement[Any], mapping: Mapping[Any, Any]) -> ColumnElement[Any]:
    """Raw values mapped as text, matched without regard to case or surrounding spaces."""
    key = sa.func.lower(sa.func.trim(text(value)))
    whens = [(key == str(k).strip().lower(), sa.null() if v is None else sa.literal(str(v)))
             for k, v in mapping.items()]
    return sa.case(*whens, else_=text(value)) if whens else value


def typed_value(value: ColumnElement[Any], kind: str, dialect: str, raw: RawRelation,
                raw_name: str | None, finite_only: bool = True) -> ColumnElement[Any]:
    """``value`` as a column of ``kind`` (str, category, int, float, bool, datetime); a value
    that cannot be read as one is NULL.  ``raw_name``: the raw column it comes from (its
    native type decides the cast), None for a mapped value; ``finite_only`` false keeps inf
    and NaN numbers (the contract check counts them as readable)."""
    native = raw.native.get(raw_name, "unknown") if raw_name else "unknown"
    if kind in ("str", "category"):
        return value if native == "text" else text(value)
    if kind in ("int", "float"):
        if dialect == "sqlite":  # SQLite reads blank text as 0: it is no value
            value = sa.case((sa.func.trim(text(value)) == "", sa.null()), else_=value)
        if native == "number" and (dialect != "duckdb" or kind == "int"):
            # a typed integer column holds no inf or NaN (and a BIGINT keeps every digit)
            return sa.cast(value, sa.Double) if kind == "float" else value
        number = try_number(value, dialect) if native != "number" else sa.cast(value, sa.Double)
        if dialect == "duckdb":
            # inf and NaN are no measurement: read as empty (and counted), or, for the
            # contract check, as readable; a whole number too large for 64 bits is unreadable
            finite = sa.func.isfinite(number)
            if kind == "int":
                whole: ColumnElement[Any] = sa.func.try_cast(
                    sa.literal_column(f"({_sql(number, dialect)}) AS BIGINT"))
                return sa.case((sa.not_(finite), sa.null() if finite_only else number),
                               (whole == number, whole), else_=sa.null())
            return sa.case((finite, number), else_=sa.null() if finite_only else number)
        if kind == "int":
            whole = sa.cast(number, sa.BigInteger)
            return sa.case((whole == number, whole), else_=sa.null())
        return number
    if kind == "bool":
        if native == "bool":
            return value
        if native == "number":
            return sa.case((value.is_(None), sa.null()), (value != 0, True), else_=False)
        flag = flag_of_text(value)
        return sa.case((flag == 1, True), (flag == 0, False), else_=sa.null())
    if kind == "datetime":
        if native == "time" or dialect != "duckdb":
            return value
        return sa.func.try_cast(sa.literal_column(f"({_sql(text(value), dialect)}) AS TIMESTAMP"))
    return value
