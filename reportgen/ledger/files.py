"""Where a recorded artifact is, whatever folder the reader runs in."""

from __future__ import annotations

import os
from pathlib import Path


def locate_artifact(path: str, out_dir: Path | None, run_id: int) -> str:
    """Where a recorded artifact is, whatever folder the reader runs in.

    Runs record absolute paths; rows recorded before that hold a path relative to the
    folder the run was started in (``out/<report>/<period>/run-<id>/<file>``).  Such a
    path is found under ``out_dir`` by its ``<report>/<period>/run-<id>`` tail, else it is
    taken relative to the current folder, as it was written.
    """
    recorded = Path(path)
    if recorded.is_absolute():
        return path
    candidates = []
    if out_dir is not None:
        parts = recorded.parts
        marker = f"run-{int(run_id)}"
        tail = next((parts[i - 2:] for i in range(2, len(parts)) if parts[i] == marker), None)
        if tail is not None:
            candidates.append(Path(out_dir, *tail))
        candidates.append(Path(out_dir) / recorded)
        candidates.append(Path(out_dir).parent / recorded)
    here = Path(os.path.abspath(recorded))
    found = next((c for c in candidates if c.is_file()), here)
    return os.path.abspath(found)
