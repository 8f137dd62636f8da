"""What the ledger says of a run whose files the retention setting pruned."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reportgen.errors import DeliveryError
from reportgen.ledger.records import ArtifactRecord, RunRecord
from reportgen.text.dates import timestamp


def pruned_note(artifacts: Iterable[ArtifactRecord]) -> str | None:
    """'pruned on 2026-10-05 (keep_runs 12)' for a run whose files were pruned, else None."""
    gone = [a for a in artifacts if a.pruned_at is not None]
    if not gone:
        return None
    first = min(gone, key=lambda a: a.pruned_at)  # type: ignore[arg-type,return-value]
    assert first.pruned_at is not None
    return f"pruned on {timestamp(first.pruned_at)} ({first.pruned_by})"


def check_not_pruned(run: RunRecord, formats: Sequence[str]) -> None:
    """Refuse to send a run whose files of ``formats`` were pruned, saying what to do."""
    gone = [a for a in run.artifacts if a.format in formats and a.pruned_at is not None]
    if gone:
        raise DeliveryError(
            f"run #{run.id} ({run.report_id} {run.period}): its {gone[0].format} file was "
            f"{pruned_note(gone)} by the retention setting; run the report again for "
            f"{run.period} to make new files")
