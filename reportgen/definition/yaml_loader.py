"""YAML loading that remembers where every value came from, with ``${ENV}`` interpolation.

PyYAML's composer gives nodes with start marks; we build plain Python values from the node
tree ourselves and keep a map from each YAML path to the mark of its key and its value, so
a validation error found later can still say ``file:line:col``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reportgen import secrets
from reportgen.errors import DefinitionError, Location, Problem

PathKey = tuple[str | int, ...]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class LineMap:
    """Where each YAML path sits in its file (1-based lines and columns)."""

    file: str
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: PathKey, *, key: bool = False) -> Location:
        """The closest known location of ``path``: the path itself, else its nearest parent."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                line, col = table[probe]
                return Location(self.file, line, col)
            if not key and probe in self.keys:
                line, col = self.keys[probe]
                return Location(self.file, line, col)
            probe = probe[:-1]
        return Location(self.file, 1, 1)


def format_path(path: PathKey) -> str:
    """``('metrics', 2, 'calculator')`` -> ``metrics[2].calculator``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _Builder:
    def __init__(self, file: str, environ: Mapping[str, str]):
        self.lines = LineMap(file)
        self.environ = environ
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.lines.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node, path)
                key = str(key)
                child = (*path, key)
                if key in out:
                    self.problems.append(
                        Problem(format_path(child), f"duplicate key '{key}'",
                                self._loc(key_node))
                    )
                self.lines.keys[child] = (key_node.start_mark.line + 1,
                                          key_node.start_mark.column + 1)
                out[key] = self.build(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _loc(self, node: yaml.Node) -> Location:
        return Location(self.lines.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def _scalar(self, node: yaml.Node, path: PathKey) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.problems.append(
                Problem(format_path(path), "expected a plain key, found a mapping or list",
                        self._loc(node))
            )
            return "?"
        if node.tag == "tag:yaml.org,2002:str" or node.style in ("'", '"'):
            return self._interpolate(str(node.value), node, path)
        # Resolve plain scalars (ints, floats, bools, null) with the safe loader's rules.
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        finally:
            loader.dispose()

    def _interpolate(self, text: str, node: yaml.Node, path: PathKey) -> str:
        if "${" not in text:
            return text

        def replace(match: re.Match[str]) -> str:
            name, default = match[1], match[2]
            if name in self.environ:
                value = self.environ[name]
                secrets.remember(value)
                return value
            if default is not None:
                return default
            self.problems.append(
                Problem(format_path(path),
                        f"environment variable ${{{name}}} is not set; set it, or give a "
                        f"default as ${{{name}:-value}}", self._loc(node))
            )
            return ""

        return _ENV.sub(replace, text)


@dataclass(frozen=True)
class LoadedYaml:
    data: Any
    lines: LineMap


def load_yaml(path: Path, environ: Mapping[str, str] | None = None) -> LoadedYaml:
    """Parse ``path`` into plain values plus a line map; raise DefinitionError on any problem."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(file, [Problem("", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise DefinitionError(file, [Problem("", f"not UTF-8 text ({exc.reason})")]) from None
    return load_yaml_text(text, file, environ)


def load_yaml_text(text: str, file: str, environ: Mapping[str, str] | None = None) -> LoadedYaml:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        detail = exc.problem or str(exc)
        if exc.context:
            detail = f"{detail} ({exc.context})"
        raise DefinitionError(file, [Problem("", f"invalid YAML: {detail}", loc)]) from None
    if node is None:
        raise DefinitionError(file, [Problem("", "the file is empty; expected a report "
                                                 "definition mapping", Location(file, 1, 1))])
    builder = _Builder(file, os.environ if environ is None else environ)
    data = builder.build(node, ())
    if not isinstance(data, dict):
        raise DefinitionError(file, [Problem("", f"expected a mapping at the top level, found "
                                                 f"{type(data).__name__}", Location(file, 1, 1))])
    if builder.problems:
        raise DefinitionError(file, builder.problems)
    return LoadedYaml(data, builder.lines)
