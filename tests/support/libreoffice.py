"""Convert documents to PDF with LibreOffice (headless), for tests that look at output.

Each conversion runs with its own throw-away user profile
(``-env:UserInstallation=file:///tmp/...``): LibreOffice locks its profile, so two
conversions sharing one (parallel test workers, a desktop session) would block or fail.
The whole process group is killed on timeout because ``soffice`` is a launcher script
whose real worker (``soffice.bin``) would otherwise outlive it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

DEFAULT_TIMEOUT = 120.0


class LibreOfficeError(RuntimeError):
    """LibreOffice is missing, failed, timed out or produced no PDF; carries its output."""


def soffice_binary() -> str:
    """Path of the LibreOffice executable (``soffice``, or ``libreoffice``)."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    raise LibreOfficeError(
        "LibreOffice is not installed (no 'soffice' or 'libreoffice' on PATH); "
        "install it, e.g. apt-get install libreoffice-impress-nogui libreoffice-calc-nogui"
    )


def convert_to_pdf(source: Path, out_dir: Path | None = None, *,
                   timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Convert ``source`` to PDF and return the PDF's path.

    ``out_dir`` defaults to a new temporary directory (left for the caller to inspect or
    delete).  Raises ``LibreOfficeError`` with LibreOffice's output on any failure.
    """
    return convert_all_to_pdf([source], out_dir, timeout=timeout)[0]


def convert_all_to_pdf(sources: Sequence[Path], out_dir: Path | None = None, *,
                       timeout: float = DEFAULT_TIMEOUT) -> list[Path]:
    """Convert several files in one LibreOffice run (its start-up dominates the time)."""
    resolved = [Path(s).resolve() for s in sources]
    for source in resolved:
        if not source.is_file():
            raise LibreOfficeError(f"cannot convert {source}: no such file")
    stems = [s.stem for s in resolved]
    if len(set(stems)) != len(stems):
        raise LibreOfficeError(f"cannot convert files with the same name into one folder: {stems}")
    out_dir = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="lo-pdf-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-", dir="/tmp"))
    command = [
        soffice_binary(),
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless", "--invisible", "--nologo", "--norestore", "--nolockcheck",
        "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, resolved),
    ]
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # own process group, so a timeout can kill all of it
            env={**os.environ, "HOME": str(profile)},
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            raise LibreOfficeError(
                f"LibreOffice did not convert {', '.join(s.name for s in resolved)} within "
                f"{timeout:.0f} s:\n{output}"
            ) from None
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    pdfs = [out_dir / f"{stem}.pdf" for stem in stems]
    # soffice exits 0 even when an import filter fails, so the PDFs themselves are the proof.
    missing = [p for p in pdfs if not p.is_file() or p.stat().st_size == 0]
    if process.returncode != 0 or missing:
        raise LibreOfficeError(
            f"LibreOffice failed to convert {', '.join(map(str, resolved))} (exit code "
            f"{process.returncode}; missing {', '.join(map(str, missing)) or 'nothing'}):\n{output}"
        )
    return pdfs
