"""The data layer: sources opened where they live, aggregates computed there, cached.

Files (CSV, Parquet, Excel) and DuckDB queries run in an embedded DuckDB; SQL sources in
their own database.  Calculators declare the aggregates they need; ``DataStore`` compiles
them to one statement per source and filter and returns small results.
"""

from __future__ import annotations

from reportgen.data.canonical import PERIOD, Window
from reportgen.data.connectors import SOURCES
from reportgen.data.store import DataStore, clear_cache

__all__ = ["PERIOD", "SOURCES", "DataStore", "Window", "clear_cache"]
