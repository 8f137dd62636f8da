"""The settings a run gives the data layer before it opens any source: DuckDB's memory limit
and scratch folder (``resources``) and the folder of CSV sources' Parquet copies
(``csv_cache``)."""

from __future__ import annotations

from pathlib import Path

from reportgen.data import csv_cache, resources
from reportgen.settings import Settings, size_bytes


def configure_from(settings: Settings, out_dir: Path | None = None) -> None:
    """Give every DuckDB database opened from now on the settings' limits, and CSV sources
    the settings' Parquet cache (by default in ``out_dir``, the run's reports folder)."""
    csv_cache.configure(settings.resolved_csv_cache(out_dir),
                        size_bytes(settings.csv_cache.max_size))
    folder = settings.duckdb.temp_directory
    if folder is not None and not folder.is_absolute():
        folder = settings.base_dir / folder
    resources.configure(settings.duckdb.memory_limit, folder)
