"""Atomic artifact writes: a reader never sees a half-written report.

A file is written under a temporary ``.part`` name in the target folder, then renamed onto
its real name.  The temporary name carries the writer's host and process id, so a ``.part``
file left by a writer that was killed (``kill -9`` skips every cleanup) is recognised as
abandoned and removed by the next run (``remove_stale_parts``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from reportgen.errors import OutputPathError
from reportgen.ledger.liveness import host_name, process_alive
from reportgen.report.model.report_model import Artifact

logger = logging.getLogger(__name__)

PART_SUFFIX = ".part"
# '.<file name>.<host>~<pid>.<random>.part'; '~' is not in host names.
_PART_NAME = re.compile(r"^\..+\.(?P<host>[^.~/]+)~(?P<pid>\d+)\.[^.]+\.part$")
#: a .part file whose writer cannot be checked (another host, or an older name) is
#: abandoned once it is this old: no report takes a day to write
UNCHECKABLE_PART_AGE_SECONDS = 24 * 3600


def _host() -> str:
    return host_name().replace(".", "_").replace("~", "_")


def file_in(folder: Path, name: str) -> Path:
    """``folder / name`` for a plain file name; anything that could land elsewhere is refused.

    Output names come from definitions, so a name with a folder part, ``..``, an absolute
    path or a control character is an error, never a write outside ``folder``.
    """
    if not name or name.strip() in (".", ".."):
        raise OutputPathError(name, "empty, or not a file name")
    if any(ord(c) < 32 for c in name) or "/" in name or "\\" in name:
        raise OutputPathError(name, "contains a folder separator or a control character")
    path = Path(folder) / name
    if path.parent != Path(folder) or Path(name).is_absolute():
        raise OutputPathError(name, "not a plain file name")
    return path


def run_folder(out_dir: Path, report_id: str, period_key: str, run_id: int) -> Path:
    """The folder one run writes its artifacts into: ``out_dir/<report>/<period>/run-<id>``.

    Each run has its own folder, so a later run never overwrites an earlier run's files and
    any recorded run's bytes can still be downloaded or resent.  The report id and period
    key are checked like file names (they come from a definition).
    """
    return file_in(file_in(Path(out_dir), report_id), period_key) / f"run-{int(run_id)}"


def write_atomically(path: Path, fmt: str, write: Callable[[Path], object]) -> Artifact:
    """Call ``write(tmp_path)``, then rename the finished file onto ``path``.

    The temporary file lives in the target folder (so the rename is atomic on one file
    system) and is removed if ``write`` fails, leaving any previous artifact untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{_host()}~{os.getpid()}.",
                                    suffix=PART_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600); a report gets the usual permissions
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return artifact_for(path, fmt)


def remove_stale_parts(folder: Path, *, now: float | None = None) -> list[Path]:
    """Delete ``.part`` files in ``folder`` whose writer is gone; return what was removed.

    A file written on this host is abandoned when its process no longer exists; one from
    another host (a shared folder) or with a name from before writers were recorded, when
    it is older than a day.  Files of live writers (a concurrent run) are left alone.
    """
    if not folder.is_dir():
        return []
    moment = time.time() if now is None else now
    host = _host()
    removed: list[Path] = []
    for part in folder.glob(f".*{PART_SUFFIX}"):
        match = _PART_NAME.match(part.name)
        try:
            if match and match["host"] == host:
                stale = not process_alive(int(match["pid"]))
            else:
                stale = moment - part.stat().st_mtime > UNCHECKABLE_PART_AGE_SECONDS
            if stale:
                part.unlink()
                removed.append(part)
        except FileNotFoundError:
            continue  # its writer finished (renamed it) or another cleaner got there first
    if removed:
        logger.info("removed %d unfinished file(s) left by stopped runs in %s: %s",
                    len(removed), folder, ", ".join(p.name for p in removed))
    return removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def artifact_for(path: Path, fmt: str) -> Artifact:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return Artifact(format=fmt, path=str(path), size=path.stat().st_size, sha256=digest.hexdigest())
