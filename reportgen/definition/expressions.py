"""The grammar of a derived column: a checked SQL expression over a source's columns.

Parsed with sqlglot (written in DuckDB's SQL) and allowed only column references, literals,
operators and a fixed list of scalar functions: no subqueries, tables or functions that
read files or the environment.  ``reportgen.data.derive`` renders it for the database the
source lives in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

#: sqlglot expression classes a derived column may contain
_ALLOWED = (
    "Column", "Identifier", "Literal", "Paren", "Null", "Boolean", "Neg", "Not",
    "Add", "Sub", "Mul", "Div", "IntDiv", "Mod", "EQ", "NEQ", "GT", "GTE", "LT", "LTE",
    "And", "Or", "Is", "In", "Between", "Like", "ILike", "Case", "If", "Cast", "TryCast",
    "DataType", "DataTypeParam", "Interval", "Var", "Coalesce", "Nullif", "Abs", "Round",
    "Floor", "Ceil", "Greatest", "Least", "Lower", "Upper", "Trim", "Length", "Substring",
    "Concat", "DPipe", "TimeToUnix", "DateDiff", "TimestampDiff", "Extract", "DatePart",
    "DateTrunc", "TimestampTrunc", "Ln", "Log", "Sqrt", "Pow", "Sign", "StrPosition",
    "Replace", "Left", "Right", "Date", "Year", "Month", "Day", "DayOfWeek", "Hour",
    "Minute", "Second", "Quarter", "Week",
)

def parse_expression(text: str) -> exp.Expr:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except ParseError as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(f"not a valid SQL expression ({first})") from None
    for node in tree.walk():
        name = type(node).__name__
        if name not in _ALLOWED:
            shown = node.sql(dialect="duckdb")[:40] if isinstance(node, exp.Expression) else name
            raise ValueError(f"'{shown}' is not allowed in a derived column (only columns, "
                             "literals, operators, CASE, CAST and date/number/text functions)")
    return tree


def columns_of(text: str) -> list[str]:
    """The columns an expression reads; raises ValueError for a disallowed expression."""
    from sqlglot import exp

    tree = parse_expression(text)
    return list(dict.fromkeys(c.name for c in tree.find_all(exp.Column)))
