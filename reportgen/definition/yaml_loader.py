"""YAML loading that remembers where every value came from, with ``${ENV}`` interpolation.

PyYAML's composer gives nodes with start marks; we build plain Python values from the node
tree ourselves and keep a map from each YAML path to the mark of its key and its value, so
a validation error found later can still say ``file:line:col``.

The loader is bounded, because the scheduler reads whatever lands in its folder: a file
larger than ``MAX_BYTES``, nesting deeper than ``MAX_DEPTH``, more than ``MAX_ALIASES``
aliases or a document that expands (through aliases) to more than ``MAX_NODES`` values is
refused, with the place it went over, before anything is built.  A "billion laughs" file
of a few hundred bytes is therefore turned away in microseconds instead of taking the
machine's memory.  Every failure is a DefinitionError with file:line:col.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from reportgen import secrets
from reportgen.errors import DefinitionError, Location, Problem

# libyaml's parser (when PyYAML was built with it) reads a definition ~5x faster; both give
# the same events, nodes and marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PathKey = tuple[str | int, ...]

#: A definition is a few hundred lines; anything this large is not one.
MAX_BYTES = 1_000_000
#: Deepest nesting of mappings and lists (real definitions stay under 8).
MAX_DEPTH = 40
#: Aliases (``*name``) allowed in one file: enough for shared defaults, not for a bomb.
MAX_ALIASES = 100
#: Values a document may expand to once every alias is followed.
MAX_NODES = 100_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Mark(Protocol):
    """Where PyYAML found something (the pure-Python and the libyaml marks alike)."""

    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...

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
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        """A mapping, with YAML merge keys (``<<: *defaults``) applied as in YAML 1.1.

        Keys written in the mapping win over merged ones, and an earlier merged mapping
        wins over a later one; a merged value keeps the location it was written at, so an
        error in shared defaults points at the defaults.
        """
        merged: dict[str, Any] = {}
        explicit: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) \
                    else [value_node]
                for source in reversed(sources):
                    if not isinstance(source, yaml.MappingNode):
                        self.problems.append(Problem(
                            format_path((*path, "<<")),
                            "a merge key '<<' takes a mapping or a list of mappings, found "
                            f"{_node_kind(source)}", self._loc(source)))
                        continue
                    merged.update(self._mapping(source, path))
            else:
                explicit.append((key_node, value_node))
        out: dict[str, Any] = dict(merged)
        written: set[str] = set()
        for key_node, value_node in explicit:
            key = str(self._scalar(key_node, path))
            child = (*path, key)
            if key in written:
                self.problems.append(
                    Problem(format_path(child), f"duplicate key '{key}'", self._loc(key_node))
                )
            written.add(key)
            self.lines.keys[child] = (key_node.start_mark.line + 1,
                                      key_node.start_mark.column + 1)
            out[key] = self.build(value_node, child)
        return out

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
        except yaml.MarkedYAMLError as exc:  # an unknown or unsafe tag (!!python/...)
            self.problems.append(Problem(format_path(path), f"unsupported YAML value: "
                                         f"{exc.problem or exc}", self._loc(node)))
        # A known tag over text it cannot read (!!int 'x', !!timestamp 'soon', an integer
        # of thousands of digits): PyYAML raises whatever its converter raised.
        except Exception as exc:
            self.problems.append(Problem(format_path(path), f"cannot read {node.tag} value "
                                         f"{_short(node.value)} ({type(exc).__name__})",
                                         self._loc(node)))
        finally:
            loader.dispose()
        return None

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


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    return f"the value {_short(node.value)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _codepoint(character: int | str) -> str:
    code = character if isinstance(character, int) else ord(character[:1] or "\x00")
    return f"U+{code:04X}"


def _mark_location(file: str, mark: _Mark | None) -> Location:
    return Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)


def _position_location(file: str, text: str, position: int) -> Location:
    """file:line:col of a character offset (PyYAML's reader errors give only the offset)."""
    before = text[:position]
    line = before.count("\n") + 1
    return Location(file, line, position - (before.rfind("\n") + 1) + 1)


def _check_bounds(text: str, file: str) -> None:
    """Refuse documents too deep or expanding too far, from the parser's event stream.

    The parser is iterative, so this pass cannot itself overflow the stack; the composer
    and the builder (both recursive) only ever see documents that passed it.  Each anchor
    remembers how many values it stands for, so an alias costs what it expands to.
    """
    depth = 0
    aliases = 0
    expanded = 0
    anchored: dict[str, int] = {}
    open_nodes: list[tuple[str | None, int]] = []
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _refused(file, event.start_mark, f"nesting deeper than {MAX_DEPTH} "
                                                       "levels; a report definition needs far fewer")
            open_nodes.append((event.anchor, expanded))
            expanded += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, start = open_nodes.pop()
            if anchor is not None:
                anchored[anchor] = expanded - start
        elif isinstance(event, yaml.ScalarEvent):
            expanded += 1
            if event.anchor is not None:
                anchored[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _ in open_nodes):
                raise _refused(file, event.start_mark, f"alias *{event.anchor} refers to a "
                                                       "value that contains it (a cycle)")
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _refused(file, event.start_mark, f"more than {MAX_ALIASES} aliases "
                                                       "(*name); repeat the values instead")
            expanded += anchored.get(event.anchor or "", 1)
        if expanded > MAX_NODES:
            raise _refused(file, event.start_mark, f"the document expands to more than "
                                                   f"{MAX_NODES:,} values (each alias counted "
                                                   "as what it stands for); refused")


def _refused(file: str, mark: _Mark | None, message: str) -> DefinitionError:
    return DefinitionError(file, [Problem("", message, _mark_location(file, mark))])


@dataclass(frozen=True)
class LoadedYaml:
    data: Any
    lines: LineMap


def load_yaml(path: Path, environ: Mapping[str, str] | None = None) -> LoadedYaml:
    """Parse ``path`` into plain values plus a line map; raise DefinitionError on any problem."""
    file = str(path)
    try:
        special = path.exists() and not path.is_file()
    except (OSError, ValueError) as exc:  # a name with a NUL byte, a path too long
        raise DefinitionError(file, [Problem("", f"cannot read the file: {exc}")]) from None
    if special:
        # a folder, or a FIFO or device that would block the reader or never end
        raise DefinitionError(file, [Problem("", "not a regular file")])
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise DefinitionError(file, [Problem("", "file not found")]) from None
    except OSError as exc:  # a folder, no permission, a device that cannot be read
        raise DefinitionError(file, [Problem("", f"cannot read the file: "
                                                 f"{exc.strerror or exc}")]) from None
    if len(raw) > MAX_BYTES:
        raise DefinitionError(file, [Problem("", f"larger than {MAX_BYTES:,} bytes; a report "
                                                 "definition is a short text file",
                                             Location(file, 1, 1))])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[:exc.start].decode("utf-8", "replace")
        loc = _position_location(file, before, len(before))
        raise DefinitionError(file, [Problem("", f"not UTF-8 text ({exc.reason})",
                                             loc)]) from None
    return load_yaml_text(text, file, environ)


def load_yaml_text(text: str, file: str, environ: Mapping[str, str] | None = None) -> LoadedYaml:
    """Parse ``text`` (read from ``file``) within the loader's bounds; see ``load_yaml``."""
    if "\x00" in text:
        raise DefinitionError(file, [Problem("", "contains a NUL byte; a report definition is "
                                                 "plain text",
                                             _position_location(file, text, text.index("\x00")))])
    try:
        _check_bounds(text, file)
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or str(exc)
        if "maximum nesting depth" in detail:  # libyaml's own, lower-level guard
            raise _refused(file, mark, f"nesting deeper than {MAX_DEPTH} levels; a report "
                                       "definition needs far fewer") from None
        if exc.context:
            detail = f"{detail} ({exc.context})"
        raise DefinitionError(file, [Problem("", f"invalid YAML: {detail}",
                                             _mark_location(file, mark))]) from None
    except yaml.reader.ReaderError as exc:  # a control character YAML does not allow
        raise DefinitionError(file, [Problem(
            "", f"invalid YAML: control character {_codepoint(exc.character)} is not allowed "
                "in YAML text",
            _position_location(file, text, exc.position))]) from None
    except yaml.YAMLError as exc:  # any other parser complaint, still with a location
        raise DefinitionError(file, [Problem("", f"invalid YAML: {exc}",
                                             Location(file, 1, 1))]) from None
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
