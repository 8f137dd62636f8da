"""Regenerating from what a run already computed, when only words or looks changed.

A report's numbers and findings depend on its data and on the parts of its definition that
say what to compute (sources, metrics, statistics, insights, gates, the period); its title,
section titles and intros, chart titles and captions, theme, templates and delivery only
change how they are shown.  A run stores what it computed (``Ingredients``) under a key of
those parts, the data's fingerprints and the code version; a later run whose key matches
assembles and renders from them without reading any data.  A change to the data, to what is
computed or to reportgen itself is a new key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportgen import __version__
from reportgen.data.gates import GateResult
from reportgen.data.quality import QualityCounts
from reportgen.definition import LoadedDefinition
from reportgen.period import Period
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Figure, Finding

#: the definition's parts that only change how the numbers are shown
SHOWN_ONLY = ("title", "organisation", "owner", "description", "outputs", "theme", "schedule",
              "delivery", "approval")
_SECTION_WORDS = ("title", "intro", "notes")
_CHART_WORDS = ("title", "caption")


@dataclass(frozen=True)
class Ingredients:
    """What assembling the report needs from its data, computed once."""

    metrics: Mapping[str, MetricResult]
    findings: tuple[Finding, ...]
    gates: tuple[GateResult, ...]
    input_hashes: Mapping[str, str]
    row_counts: Mapping[str, int]
    quality: tuple[QualityCounts, ...]
    data_fingerprints: Mapping[str, str]
    #: the charts drawn from these metrics, by ``run.figures.chart_key`` (title, theme, params)
    figures: Mapping[str, Figure] = field(default_factory=dict)


def computed_parts(loaded: LoadedDefinition) -> dict[str, Any]:
    """The definition less what only changes how its numbers are shown."""
    data = loaded.definition.model_dump(mode="json", exclude=set(SHOWN_ONLY))
    for section in data.get("sections", []):
        for word in _SECTION_WORDS:
            section.pop(word, None)
    for chart in data.get("charts", []):
        for word in _CHART_WORDS:
            chart.pop(word, None)
    return data


def key(loaded: LoadedDefinition, period: Period, fingerprints: Mapping[str, str],
        actions_hash: str | None) -> str:
    """The stored ingredients' name: what is computed, from which data, by which code."""
    digest = hashlib.sha256()
    for part in (computed_parts(loaded), period.key, dict(sorted(fingerprints.items())),
                 actions_hash, __version__, str(loaded.base_dir)):
        digest.update(json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def actions_hash(loaded: LoadedDefinition) -> str | None:
    """The action register file's content hash (it is read data, like a source)."""
    spec = loaded.definition.actions
    if spec is None:
        return None
    path = loaded.resolve(spec.file)
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def load(folder: Path, name: str) -> Ingredients | None:
    """The stored ingredients named ``name``, or None (absent, or unreadable: recomputed)."""
    path = folder / f"{name}.pickle"
    try:
        with path.open("rb") as handle:
            found = pickle.load(handle)  # written by this module only, in the run folder
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    if not isinstance(found, Ingredients):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # used now: retention keeps the most recently used
    return found


def store(folder: Path, name: str, ingredients: Ingredients) -> None:
    """Keep ``ingredients`` under ``name`` (written whole or not at all)."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(ingredients, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, folder / f"{name}.pickle")
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
