"""reportgen: Monthly Quality Reports and QBR decks from a YAML definition."""

from __future__ import annotations

__version__ = "0.1.0"
