"""How much memory and scratch disk the embedded DuckDB databases may use.

Each file source is read in its own in-memory DuckDB database.  Its ``memory_limit`` and
``temp_directory`` come from the settings (``duckdb.memory_limit``,
``duckdb.temp_directory``); unset, the limit is a share of the machine's memory and never
below 1 GiB, and DuckDB spills what does not fit to the system's temporary folder.  CSV
read buffers are sized from the limit, so that the readers of every thread fit in it.

An out-of-memory failure is not bad input: it is reported as a ``ResourceError`` saying
which setting to raise, and the other sources of the run are interrupted at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.errors import ResourceError
from reportgen.settings import size_bytes

GIB = 1 << 30
#: the least memory a DuckDB database gets by default
MIN_DEFAULT_BYTES = GIB
#: the share of the machine's memory a database gets by default (two read at once)
DEFAULT_SHARE = 0.25
#: CSV read buffers: at most 16 MiB (four of the longest line), and enough of them per
#: thread.  DuckDB's usual 64 MiB buys no speed: copying 10M ticket rows of CSV to Parquet
#: peaked at 1,543-1,619 MiB with 64 MiB buffers, at 730-791 MiB with 16 MiB ones, in the
#: same 13-15 s.
MAX_CSV_BUFFER = 16 << 20
_BUFFERS_PER_THREAD = 8
_OUT_OF_MEMORY = "Out of Memory Error"
def machine_memory() -> int:
    """Physical memory in bytes (0 when the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def default_memory_limit() -> int:
    return max(MIN_DEFAULT_BYTES, int(machine_memory() * DEFAULT_SHARE))


@dataclass(frozen=True)
class DuckDbPolicy:
    """The limits every new embedded DuckDB database is given."""

    memory_limit: int
    temp_directory: Path
    #: where the limit came from, for the advice ("duckdb.memory_limit" or "default")
    origin: str = "default"

    @property
    def limit_text(self) -> str:
        mib = self.memory_limit / (1 << 20)
        return f"{mib / 1024:.1f} GiB" if mib >= 1024 else f"{mib:.1f} MiB"

    def csv_buffer_bytes(self, max_line_bytes: int, threads: int | None = None) -> int:
        """A CSV read buffer such that every thread's buffers fit in a quarter of the limit;
        at least one line and a bit (DuckDB needs a buffer larger than the longest line)."""
        threads = threads or os.cpu_count() or 1
        share = self.memory_limit // (4 * _BUFFERS_PER_THREAD * threads)
        return max(max_line_bytes + (1 << 20), min(MAX_CSV_BUFFER, share))

    def statements(self) -> list[str]:
        """The SET statements a new database runs (its spill folder is its own)."""
        spill = self.temp_directory / f"duckdb-{os.getpid()}-{next(_numbers)}"
        # DuckDB makes the last folder of the path, not the ones above it
        with contextlib.suppress(OSError):  # an unwritable folder is DuckDB's error to give
            self.temp_directory.mkdir(parents=True, exist_ok=True)
        return [f"SET memory_limit = '{self.memory_limit}B'",
                f"SET temp_directory = '{_quoted(str(spill))}'"]


_numbers = itertools.count(1)
_lock = threading.Lock()
_policy: DuckDbPolicy | None = None


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def configure(memory_limit: str | None = None, temp_directory: Path | None = None) -> None:
    """Set the policy of databases opened from now on (None: the defaults)."""
    global _policy
    limit = size_bytes(memory_limit) if memory_limit else default_memory_limit()
    folder = temp_directory or Path(tempfile.gettempdir()) / "reportgen-spill"
    with _lock:
        _policy = DuckDbPolicy(limit, folder, "duckdb.memory_limit" if memory_limit else "default")


def policy() -> DuckDbPolicy:
    with _lock:
        current = _policy
    if current is None:
        configure()
        return policy()
    return current


# --- running out of memory ----------------------------------------------------------------

def is_out_of_memory(exc: BaseException) -> bool:
    return _OUT_OF_MEMORY in str(getattr(exc, "orig", None) or exc)


def out_of_memory(source: str, file: str | None) -> ResourceError:
    current = policy()
    where = f" ({file})" if file else ""
    return ResourceError(
        f"source '{source}'{where}: DuckDB ran out of memory within its limit of "
        f"{current.limit_text} ({current.origin})",
        "raise duckdb.memory_limit in the settings (or REPORTGEN_DUCKDB_MEMORY_LIMIT, e.g. "
        f"4GB), check that {current.temp_directory} has free space to spill to (or set "
        "duckdb.temp_directory), or run fewer reports at once")


#: the DuckDB connections a data pass has opened, to interrupt when one of them fails
_live: contextvars.ContextVar[set[Any] | None] = contextvars.ContextVar("duckdb_live", default=None)


def track(connection: Any) -> None:
    """Remember a driver connection in the current data pass (if one is being tracked)."""
    live = _live.get()
    if live is not None:
        with _lock:
            live.add(connection)


class tracked_connections:  # noqa: N801  (used as a context manager, like contextlib's)
    """Within it, every DuckDB connection opened (on any thread copying this context) is
    remembered; ``interrupt()`` stops the statements they are running."""

    def __enter__(self) -> tracked_connections:
        self.live: set[Any] = set()
        self._token = _live.set(self.live)
        return self

    def __exit__(self, *exc: object) -> None:
        _live.reset(self._token)

    def interrupt(self) -> None:
        with _lock:
            connections = list(self.live)
        for connection in connections:
            with contextlib.suppress(Exception):  # closed already: nothing left to stop
                connection.interrupt()
