"""The data layer: sources opened where they live, aggregates computed there, cached.

Files (CSV, Parquet, Excel) and DuckDB queries run in an embedded DuckDB; SQL sources in
their own database.  Calculators declare the aggregates they need; ``DataStore`` compiles
them to one statement per source and filter and returns small results.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PERIOD", "SOURCES", "DataStore", "Window", "clear_cache"]

_HOMES = {"PERIOD": "canonical", "Window": "canonical", "SOURCES": "connectors",
          "DataStore": "store", "clear_cache": "result_cache"}


def __getattr__(name: str) -> Any:
    # Imported on use: the source-kind registry must not pull SQLAlchemy into ``validate``.
    if name in _HOMES:
        from importlib import import_module

        return getattr(import_module(f"reportgen.data.{_HOMES[name]}"), name)
    raise AttributeError(name)
