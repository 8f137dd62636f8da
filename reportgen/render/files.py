"""Atomic artifact writes: a reader never sees a half-written report."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from reportgen.model import Artifact


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
