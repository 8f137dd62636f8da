"""The definitions in a folder: what ``schedule`` and ``serve`` read."""

from __future__ import annotations

from pathlib import Path

DEFINITION_PATTERNS = ("*.yaml", "*.yml")


def definition_files(directory: Path, settings_path: Path | None) -> list[Path]:
    """The YAML files in ``directory``, less the settings file if it is kept there too."""
    found = {p.resolve() for pattern in DEFINITION_PATTERNS for p in directory.glob(pattern)}
    if settings_path is not None:
        found.discard(settings_path.resolve())
    return sorted(found)
