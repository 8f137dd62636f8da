"""CSV files read once: a CSV source is copied to Parquet on its first read, later reads
(the next run, another report of the same process or of another one) read the copy.

The copy holds exactly what the CSV reader returns (every field as text, an empty field as
NULL, an incomplete last row left out), so the column contract, the data-quality counts and
their messages are those of the CSV.  It is keyed on the file's content hash (the source's
fingerprint, ``data.fingerprint``) and the reader's options: a changed file is a new key and
never reads an old copy.  A file that changes while it is copied keeps no copy.

A copy is written to a temporary name and renamed into place, so two processes copying the
same file at once each write their own and the last rename wins (they are the same bytes).
Beyond ``csv_cache.max_size`` the least recently used copies are deleted, never one used
within the last hour (a run may be reading it).  When the folder cannot be written the CSV
is read as before, with a warning; when the reader cannot read the whole file (a broken row
further down) no copy is made and the CSV itself is read, so the error names the file's
line as it always did.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen._lazy import lazy
from reportgen.data.fingerprint import content_hash
from reportgen.data.relations import sql_literal

if TYPE_CHECKING:
    import sqlalchemy as sa
else:
    sa = lazy("sqlalchemy")

logger = logging.getLogger(__name__)

#: part of every key: a change of what a copy holds makes the old copies unused
FORMAT_VERSION = "1"
#: copies used within this many seconds are never pruned (a run may be reading them)
IN_USE_SECONDS = 3600
#: folder name of the default cache under the reports folder
DEFAULT_FOLDER = ".csv-cache"
DEFAULT_MAX_BYTES = 10 * 10**9


@dataclass(frozen=True)
class CsvCachePolicy:
    """Where copies go (None: CSV files are read as they are) and how much they may hold."""

    directory: Path | None = None
    max_bytes: int = DEFAULT_MAX_BYTES


_lock = threading.Lock()
_policy = CsvCachePolicy()
#: what this process did: "converted", "read" (a copy was used), "skipped" (the CSV was read)
events: Counter[str] = Counter()


def configure(directory: Path | None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Keep copies in ``directory`` from now on (None: no copies)."""
    global _policy
    with _lock:
        _policy = CsvCachePolicy(directory, max_bytes)


def policy() -> CsvCachePolicy:
    with _lock:
        return _policy


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def parquet_copy(conn: sa.Connection, select: str, path: Path, reader: str) -> Path | None:
    """The Parquet copy of what ``select`` (a read of the CSV ``path`` with options
    ``reader``) returns, made now if there is none yet; None when there is no cache or the
    copy cannot be made (the CSV is read then)."""
    import duckdb

    folder = policy().directory
    if folder is None:
        return None
    before = _stamp(path)
    key = hashlib.sha256(f"{FORMAT_VERSION}|{content_hash(path)}|{reader}".encode())
    target = folder / f"{key.hexdigest()}.parquet"
    if target.is_file():
        with contextlib.suppress(OSError):  # its use marks it recent, for the pruning
            os.utime(target)
        events["read"] += 1
        logger.debug("CSV %s read from its Parquet copy %s", path, target)
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _skip(path, f"cannot create {folder} ({exc.strerror or exc})")
        return None
    temporary = folder / f".{target.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    started = time.perf_counter()
    try:
        conn.exec_driver_sql(f"COPY ({select}) TO {sql_literal(str(temporary))} "
                             "(FORMAT parquet, COMPRESSION zstd)")
    except (duckdb.Error, sa.exc.DBAPIError) as exc:
        conn.rollback()
        with contextlib.suppress(OSError):
            temporary.unlink()
        message = str(getattr(exc, "orig", None) or exc)
        if "INTERRUPT" in message:
            raise  # the data pass is stopping (another source failed): so does this read
        if "CSV Error" in message:  # the CSV read itself says which line is broken
            events["skipped"] += 1
            return None
        _skip(path, f"cannot write a copy to {folder} ({message.splitlines()[0]})")
        return None
    if _stamp(path) != before:  # changed while copied: the copy may hold either version
        temporary.unlink(missing_ok=True)
        _skip(path, "the file changed while it was copied")
        return None
    os.replace(temporary, target)
    events["converted"] += 1
    logger.info("CSV %s copied to Parquet in %.1f s (%s)", path,
                time.perf_counter() - started, target)
    prune(folder, policy().max_bytes, keep=target)
    return target


def _skip(path: Path, why: str) -> None:
    events["skipped"] += 1
    logger.warning("CSV %s is read without a Parquet copy: %s", path, why)


def prune(folder: Path, max_bytes: int, keep: Path | None = None,
          now: float | None = None) -> int:
    """Delete the least recently used copies until the folder holds at most ``max_bytes``
    (never ``keep`` nor a copy used within ``IN_USE_SECONDS``), and temporary files left
    by an interrupted copy; returns how many files were deleted."""
    now = time.time() if now is None else now
    copies: list[tuple[float, int, Path]] = []
    deleted = 0
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            with contextlib.suppress(OSError):
                info = entry.stat()
                if entry.suffix == ".tmp" and now - info.st_mtime > IN_USE_SECONDS:
                    entry.unlink()
                    deleted += 1
                elif entry.suffix == ".parquet":
                    copies.append((info.st_mtime, info.st_size, entry))
    total = sum(size for _, size, _ in copies)
    for used, size, entry in sorted(copies, key=lambda c: c[0]):  # least recently used first
        if total <= max_bytes:
            break
        if entry == keep or now - used < IN_USE_SECONDS:
            continue
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()
            deleted += 1
        total -= size
    return deleted
