"""Report definitions: typed models of the YAML, loaded with line numbers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.definition.checks import Check, validate
from reportgen.definition.models import Definition
from reportgen.definition.yaml_loader import load_yaml

__all__ = ["Definition", "LoadedDefinition", "definition_schema", "load_definition"]


@dataclass(frozen=True)
class LoadedDefinition:
    """A valid definition with where it came from (paths in it are relative to ``base_dir``)."""

    definition: Definition
    path: Path
    base_dir: Path
    hash: str

    def resolve(self, relative: str) -> Path:
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate


def load_definition(path: Path | str, environ: Mapping[str, str] | None = None,
                    checks: Sequence[Check] = ()) -> LoadedDefinition:
    """Load and validate the definition at ``path``; raises DefinitionError listing all problems.

    This checks the document on its own; ``reportgen.plan.load_definition`` adds the checks
    that need the registries (calculator, chart and source names and their params).
    """
    path = Path(path)
    loaded = load_yaml(path, environ)
    base_dir = path.resolve().parent
    definition = validate(loaded.data, loaded.lines, base_dir, checks)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedDefinition(definition, path, base_dir, digest)


def definition_schema() -> dict[str, Any]:
    """JSON Schema of a report definition (for editors and CI checks)."""
    schema = Definition.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "reportgen report definition"
    return json.loads(json.dumps(schema))
