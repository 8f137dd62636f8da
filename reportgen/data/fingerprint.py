"""What a source's data is now, cheaply: the key every cached result is stored under.

A long-lived process (the web page, the schedule daemon, a worker) builds the same report
many times while its data changes underneath.  Every cache (the data store's statement
results, the web page's previews, a stored model) is keyed on these fingerprints, and a
run checks them again before it sends anything, so a number that no longer follows from
the data is never served or sent.

* A file (CSV, Parquet, Excel, a DuckDB database, a SQLite database): its size and
  modification time, then its content hash, computed once per (size, time) and kept.
* A database reached by URL: the definition's ``version_query`` when it declares one (a
  statement whose answer changes whenever the data does, such as ``SELECT max(updated_at)
  FROM tickets``), else the row count, latest time and a checksum of the values (sums of
  numbers and of text lengths) of the source over the window, run where the data lives.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reportgen.definition.content_specs import SourceSpec

_content: dict[tuple[str, int, int], str] = {}
_content_lock = threading.Lock()
#: the files being hashed now, each with the lock its hashing thread holds
_hashing: dict[tuple[str, int, int], threading.Lock] = {}


def _sqlite_file(url: str, base_dir: Path) -> Path | None:
    from reportgen.data.sql_source import SQLITE_PATH

    match = SQLITE_PATH.match(url)
    if not match or match["path"] == ":memory:":
        return None
    path = Path(match["path"])
    return path if path.is_absolute() else base_dir / path


def files_of(spec: SourceSpec, base_dir: Path) -> list[Path] | None:
    """The files a source reads, or None when it lives in a database reached by URL."""
    paths = [Path(p) for p in [spec.path, *spec.files.values()] if p]
    if spec.url:
        database = _sqlite_file(spec.url, base_dir)
        if database is None:
            return None
        # a SQLite database in WAL mode keeps recent commits in its -wal file
        paths += [database, database.with_name(database.name + "-wal")]
    return [p if p.is_absolute() else base_dir / p for p in paths]


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes; computed once per (path, size, modification time)."""
    try:
        info = path.stat()
    except OSError:
        return "missing"
    key = (str(path), info.st_size, info.st_mtime_ns)
    with _content_lock:
        known = _content.get(key)
        if known is not None:
            return known
        # sources read on two threads often share a file (the tables of one SQLite
        # database): one thread reads it, the other waits for its answer
        hashing = _hashing.setdefault(key, threading.Lock())
    with hashing:
        with _content_lock:
            known = _content.get(key)
        if known is not None:
            return known
        with path.open("rb") as handle:
            value = hashlib.file_digest(handle, "sha256").hexdigest()
        with _content_lock:
            _content[key] = value
            _hashing.pop(key, None)
    return value


def file_fingerprint(paths: list[Path]) -> str:
    """One digest of the files' names, sizes, times and contents (a missing file counts)."""
    digest = hashlib.sha256()
    for path in paths:
        try:
            info = path.stat()
            stamp = f"{path}|{info.st_size}|{info.st_mtime_ns}|{content_hash(path)}"
        except OSError:
            stamp = f"{path}|missing"
        digest.update(stamp.encode())
    return digest.hexdigest()


def fingerprint(spec: SourceSpec, base_dir: Path,
                probe: Callable[[], Any] | None = None) -> str:
    """The source's fingerprint: from its files, or (a database) from ``probe()``, which
    runs its ``version_query`` or counts its window where it lives."""
    digest = hashlib.sha256(spec.model_dump_json().encode())
    digest.update(str(base_dir).encode())
    paths = files_of(spec, base_dir)
    if paths is not None:
        digest.update(file_fingerprint(paths).encode())
    elif probe is not None:
        digest.update(repr(probe()).encode())
    return digest.hexdigest()


def cheap_fingerprints(sources: Mapping[str, SourceSpec], base_dir: Path) -> dict[str, str] | None:
    """Every source's fingerprint when all of them are files (no statement runs), else None."""
    out = {}
    for name, spec in sources.items():
        if files_of(spec, base_dir) is None:
            return None
        out[name] = fingerprint(spec, base_dir)
    return out
