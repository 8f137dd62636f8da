"""Derived columns: a source's new columns as checked SQL expressions over its columns.

``derive: {frt_hours: "epoch(first_response_at - created_at) / 3600"}`` gives a ticket
export with two timestamps a duration without a hand-written query.  The expression is
parsed with sqlglot (written in DuckDB's SQL), allowed only column references, literals,
operators and a fixed list of scalar functions (no subqueries, tables or functions that
read files or the environment), and rendered for the database the source lives in.
"""

from __future__ import annotations

from collections.abc import Iterable

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
_DIALECTS = {"duckdb": "duckdb", "postgresql": "postgres", "sqlite": "sqlite",
             "mysql": "mysql", "mssql": "tsql", "snowflake": "snowflake",
             "bigquery": "bigquery", "redshift": "redshift", "oracle": "oracle",
             "trino": "trino", "databricks": "databricks"}


def _parse(text: str):  # type: ignore[no-untyped-def]
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

    tree = _parse(text)
    return list(dict.fromkeys(c.name for c in tree.find_all(exp.Column)))


def render(text: str, dialect: str, known: Iterable[str]) -> str:
    """The expression in ``dialect``'s SQL, its column names quoted; every column it reads
    must be in ``known`` (raises ValueError naming the first that is not)."""
    from sqlglot import exp

    tree = _parse(text)
    names = set(known)
    for column in tree.find_all(exp.Column):
        if column.name not in names or column.table:
            raise ValueError(f"reads column '{column.sql(dialect='duckdb')}', which the source "
                             f"does not have (columns: {', '.join(sorted(names))})")
        column.set("this", exp.to_identifier(column.name, quoted=True))
    return tree.sql(dialect=_DIALECTS.get(dialect, dialect))
