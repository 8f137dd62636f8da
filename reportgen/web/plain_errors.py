"""Errors as the page shows them: plain words for everyone, the technical text for admins.

What went wrong is recorded as it happened (a run's error, a job's, an audit row's detail),
often with the exception's class and absolute paths on the server.  A reader of the page
gets the same message with each Python exception named in plain words and each path shown
relative to the definitions folder (a file elsewhere by its name); an admin also gets the
text as recorded, behind a disclosure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from reportgen.errors import ReportgenError

#: what an exception that is not reportgen's own means, said to someone who reads reports
_MEANING = {
    "FileNotFoundError": "a file it needs is missing",
    "IsADirectoryError": "a file it needs is a folder",
    "PermissionError": "it was not allowed to read or write a file",
    "BrokenProcessPool": "a process drawing the report's files stopped unexpectedly, often "
                         "for lack of memory",
    "MemoryError": "the server ran out of memory",
    "TimeoutError": "something it waited for took too long",
    "ConnectionRefusedError": "a server it needs refused the connection",
    "ConnectionResetError": "a server it needs closed the connection",
    "ConnectionError": "a server it needs could not be reached",
    "SMTPException": "the mail server refused the message",
    "KeyboardInterrupt": "the process was stopped",
    "SystemExit": "the process was stopped",
    "OSError": "a file or connection problem",
}
_INTERNAL = "an internal error"
#: an exception's class name, with its module when written so (``concurrent.futures.X``)
_CLASS = (r"(?:[a-z_][a-z0-9_]*\.)*([A-Z][A-Za-z0-9]*(?:Error|Exception|Pool|Interrupt|Exit"
          r"|Failure|Warning|Locked|Lost|Timeout|Refused))")
_RAISED = re.compile(rf"\b{_CLASS}: ")  # "KeyError: 'x'", to the end of its clause
_NAMED = re.compile(rf"\(\s*{_CLASS}\s*\)")  # "(BrokenProcessPool)"
_URL = re.compile(r"\b([a-z][a-z0-9+.-]*)://(/[^\s'\"<>]*)")
_PATH = re.compile(r"(?<![\w/.:~-])(/[^\s'\"<>,;:()\[\]]+)")


@dataclass(frozen=True)
class Explained:
    """A recorded error as the page shows it: ``plain`` for everyone, ``detail`` (the text
    as recorded) for admins when it says more."""

    plain: str
    detail: str | None


def _ours() -> set[str]:
    names: set[str] = set()
    todo: list[type] = [ReportgenError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def shown_path(raw: str, definitions: Path) -> str:
    """A server path as the page shows it: relative to the definitions folder, else the
    file's name."""
    path = Path(raw)
    for base, candidate in ((definitions, path), (definitions.resolve(), path),
                            (definitions.resolve(), path.resolve())):
        try:
            inside = candidate.relative_to(base).as_posix()
        except ValueError:
            continue
        return "the definitions folder" if inside == "." else inside
    return path.name or raw


def _is_server_path(raw: str) -> bool:
    # "/runs/5/approve" is one of the page's addresses; "/srv/reports/x.pdf" is a file
    parts = Path(raw).parts
    return len(parts) > 2 and Path("/", parts[1]).is_dir()


def _paths(text: str, definitions: Path) -> str:
    def url(match: re.Match[str]) -> str:
        if match[1] in ("http", "https"):
            return match[0]
        return f"{match[1]}://{shown_path('/' + match[2].lstrip('/'), definitions)}"

    def path(match: re.Match[str]) -> str:
        raw = match[1].rstrip(".")
        if not _is_server_path(raw):
            return match[0]
        return shown_path(raw, definitions) + match[1][len(raw):]

    return _PATH.sub(path, _URL.sub(url, text))


def _meaning(name: str, rest: str, definitions: Path) -> str:
    words = _MEANING.get(name)
    if words is None:
        words = "the mail server refused the message" if name.startswith("SMTP") else _INTERNAL
    if name in ("FileNotFoundError", "IsADirectoryError", "PermissionError"):
        found = [m[1].rstrip(".") for m in _PATH.finditer(rest)]
        if found:
            words += f" ({shown_path(found[-1], definitions)})"
    return words


def _clause_end(text: str, start: int) -> int:
    """Where the clause of an exception's message that begins at ``start`` ends: at the
    bracket that closes one opened before it, at "; " between clauses, or at the end."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] in "([":
            depth += 1
        elif text[i] in ")]":
            if depth == 0:
                return i
            depth -= 1
        elif depth == 0 and text.startswith("; ", i):
            return i
    return len(text)


def explain(message: str | None, definitions: Path) -> Explained:
    """``message`` in plain words (no exception class, no absolute path) and, when that
    changed anything, the message as recorded for an admin."""
    if not message:
        return Explained("", None)
    ours = _ours()
    plain = message
    raised = _RAISED.search(plain)
    while raised is not None:
        name, end = raised[1], _clause_end(plain, raised.end())
        rest = plain[raised.end():end]
        if name in ours:  # reportgen's own errors are written for their reader
            plain = plain[:raised.start()] + plain[raised.end():]
        else:
            meaning = _meaning(name, rest, definitions)
            if meaning == _INTERNAL:
                meaning += "; an administrator can see the technical detail"
            if raised.start() == 0:  # it opens the message: a sentence
                meaning = meaning[0].upper() + meaning[1:]
            plain = plain[:raised.start()] + meaning + (plain[end:] or ".")
        raised = _RAISED.search(plain)
    plain = _NAMED.sub(lambda m: "" if m[1] in ours else
                       f"({_meaning(m[1], '', definitions)})", plain)
    plain = re.sub(r"\s+([,;.])", r"\1", _paths(plain, definitions)).strip()
    plain = re.sub(r"\.\.$", ".", plain)
    return Explained(plain, message if plain != message.strip() else None)
