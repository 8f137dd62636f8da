"""Derived columns: a source's new columns as checked SQL expressions over its columns.

``derive: {frt_hours: "epoch(first_response_at - created_at) / 3600"}`` gives a ticket
export with two timestamps a duration without a hand-written query.  The expression is
parsed with sqlglot (written in DuckDB's SQL), allowed only column references, literals,
operators and a fixed list of scalar functions (no subqueries, tables or functions that
read files or the environment), and rendered for the database the source lives in.
"""

from __future__ import annotations

from collections.abc import Iterable

from reportgen.definition.expressions import columns_of, parse_expression

__all__ = ["columns_of", "render"]

_DIALECTS = {"duckdb": "duckdb", "postgresql": "postgres", "sqlite": "sqlite",
             "mysql": "mysql", "mssql": "tsql", "snowflake": "snowflake",
             "bigquery": "bigquery", "redshift": "redshift", "oracle": "oracle",
             "trino": "trino", "databricks": "databricks"}


def render(text: str, dialect: str, known: Iterable[str]) -> str:
    """The expression in ``dialect``'s SQL, its column names quoted; every column it reads
    must be in ``known`` (raises ValueError naming the first that is not)."""
    from sqlglot import exp

    tree = parse_expression(text)
    names = set(known)
    for column in tree.find_all(exp.Column):
        if column.name not in names or column.table:
            raise ValueError(f"reads column '{column.sql(dialect='duckdb')}', which the source "
                             f"does not have (columns: {', '.join(sorted(names))})")
        column.set("this", exp.to_identifier(column.name, quoted=True))
    return tree.sql(dialect=_DIALECTS.get(dialect, dialect))
