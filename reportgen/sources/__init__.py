"""Data sources: connectors by kind, and the contract every loaded frame meets."""

from __future__ import annotations

from reportgen.sources.base import SOURCES, LoadedSource, RawFrame, Window, fetch_source

__all__ = ["SOURCES", "LoadedSource", "RawFrame", "Window", "fetch_source"]
