"""Atomic artifact writes: a reader never sees a half-written report."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from reportgen.errors import OutputPathError
from reportgen.model import Artifact


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


def write_atomically(path: Path, fmt: str, write: Callable[[Path], None]) -> Artifact:
    """Call ``write(tmp_path)``, then rename the finished file onto ``path``.

    The temporary file lives in the target folder (so the rename is atomic on one file
    system) and is removed if ``write`` fails, leaving any previous artifact untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
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
