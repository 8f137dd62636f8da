"""Report definitions: typed models of the YAML, loaded with line numbers."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reportgen.definition.checks import Check, Collector, pydantic_problems, validate
from reportgen.definition.document import Definition
from reportgen.definition.yaml_loader import LineMap, PathKey, format_path, load_yaml
from reportgen.errors import DefinitionError, Location, Problem, SourceError

__all__ = ["Definition", "LoadedDefinition", "load_definition"]

logger = logging.getLogger(__name__)


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

    def location(self, path: PathKey) -> Location:
        """Where ``path`` is written in the definition file (read again: a loaded definition
        keeps no line map)."""
        try:
            return load_yaml(self.path).lines.locate(path)
        except (DefinitionError, OSError):  # changed or removed since it was loaded
            return Location(str(self.path))

    def locate(self, path: PathKey) -> str:
        """'file:line:col yaml.path' of ``path``, to put in front of a message."""
        return f"{self.location(path)} {format_path(path)}"


#: the keys that say where a source's data is, most specific first
_DATA_KEYS = ("path", "files", "url", "table", "query")


@contextmanager
def locating(loaded: LoadedDefinition) -> Iterator[None]:
    """Put where a source is written in the definition in front of the errors about its
    data (a file not found, a column missing) raised inside."""
    try:
        yield
    except SourceError as exc:
        spec = loaded.definition.sources.get(exc.source)
        key = next((k for k in _DATA_KEYS if spec is not None and getattr(spec, k, None)), None)
        where = exc.key or ((key,) if key else ())
        exc.located(loaded.locate(("sources", exc.source, *where)))
        raise


def load_definition(path: Path | str, environ: Mapping[str, str] | None = None,
                    checks: Sequence[Check] = ()) -> LoadedDefinition:
    """Load and validate the definition at ``path``; raises DefinitionError listing all problems.

    This checks the document on its own; ``reportgen.plan.load_definition`` adds the checks
    that need the registries (calculator, chart and source names and their params).
    """
    path = Path(path)
    loaded = load_yaml(path, environ)
    base_dir = path.resolve().parent
    try:
        definition = validate(loaded.data, loaded.lines, base_dir, checks)
    except DefinitionError:
        raise
    except Exception as exc:
        # The cross-reference pass walks the raw document and can trip over values of the
        # wrong shape; the typed models say what is wrong with them, with locations.
        raise _typed_problems(loaded.data, loaded.lines, exc) from None
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:  # replaced or removed while being read
        raise DefinitionError(str(path), [Problem("", f"cannot read the file: {exc}")]) from None
    return LoadedDefinition(definition, path, base_dir, digest)


def _typed_problems(raw: dict[str, Any], lines: LineMap, exc: Exception) -> DefinitionError:
    """The typed models' problems with ``raw``, for when the cross-reference pass failed."""
    logger.debug("cross-reference checks of %s failed", lines.file, exc_info=exc)
    out = Collector(lines)
    try:
        Definition.model_validate(raw)
    except ValidationError as invalid:
        pydantic_problems(invalid, out, Definition)
    if not out.problems:
        out.problems.append(Problem("", f"the definition could not be checked "
                                        f"({type(exc).__name__}: {exc})",
                                    Location(lines.file, 1, 1)))
    return DefinitionError(lines.file, out.problems)
