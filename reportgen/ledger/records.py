"""What the ledger hands back: a run, its artifacts and each delivery as recorded, with the
literal types of a run's trigger and status and a delivery's status and purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from reportgen.ledger.alerts import AlertRecord as AlertRecord
from reportgen.ledger.locks import LockLost as LockLost
from reportgen.ledger.locks import RunLock as RunLock
from reportgen.ledger.locks import RunLocked as RunLocked
from reportgen.report.model.report_model import Artifact

Trigger = Literal["schedule", "manual", "retry"]


# 'skipped': a fan-out segment too small for a report of its own (the reason is its error)
RunStatus = Literal["running", "succeeded", "partial", "failed", "held", "interrupted",
                    "pending_approval", "rejected", "skipped"]


# 'sending': a try is under way (recorded before the message goes out); a row still
# 'sending' once its run is gone is 'unconfirmed': the server may or may not have it.
DeliveryStatus = Literal["pending", "sending", "sent", "unconfirmed", "failed_permanent",
                         "failed_transient"]


Purpose = Literal["delivery", "resend", "notice"]


@dataclass(frozen=True)
class ArtifactRecord:
    format: str
    path: str
    size: int
    sha256: str
    #: when the retention setting deleted the file, and the rule that did (None: on disk)
    pruned_at: datetime | None = None
    pruned_by: str | None = None

    def to_artifact(self) -> Artifact:
        return Artifact(format=self.format, path=self.path, size=self.size, sha256=self.sha256)


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    run_id: int
    report_id: str
    period: str
    channel: str
    recipient: str
    status: DeliveryStatus
    attempts: int
    smtp_message_id: str | None
    last_error: str | None
    updated_at: datetime
    purpose: Purpose


@dataclass(frozen=True)
class RunRecord:
    """One run as the ledger remembers it (what ``history`` and ``resend`` read)."""

    id: int
    report_id: str
    period: str
    trigger: Trigger
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    definition_hash: str
    input_hashes: Mapping[str, str]
    code_version: str
    error: str | None
    attempt: int
    next_retry_at: datetime | None
    summary: Mapping[str, Any] | None = None
    artifacts: tuple[ArtifactRecord, ...] = ()
    deliveries: tuple[DeliveryRecord, ...] = field(default=())
    #: the fan-out run this run is a segment of, and the segment's name
    parent_id: int | None = None
    segment: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``history --json``)."""
        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id, "report_id": self.report_id, "period": self.period,
            "trigger": self.trigger, "status": self.status,
            "started_at": when(self.started_at), "finished_at": when(self.finished_at),
            "definition_hash": self.definition_hash, "input_hashes": dict(self.input_hashes),
            "code_version": self.code_version, "error": self.error, "attempt": self.attempt,
            "next_retry_at": when(self.next_retry_at),
            "parent_id": self.parent_id, "segment": self.segment,
            "artifacts": [{**a.__dict__, "pruned_at": when(a.pruned_at)}
                          for a in self.artifacts],
            "deliveries": [
                {"channel": d.channel, "recipient": d.recipient, "status": d.status,
                 "attempts": d.attempts, "purpose": d.purpose,
                 "smtp_message_id": d.smtp_message_id, "last_error": d.last_error,
                 "updated_at": when(d.updated_at)}
                for d in self.deliveries
            ],
        }


def delivery_from_row(row: sa.RowMapping) -> DeliveryRecord:
    """A delivery as recorded, from its row of the deliveries table."""
    return DeliveryRecord(
        id=row["id"], run_id=row["run_id"], report_id=row["report_id"], period=row["period"],
        channel=row["channel"], recipient=row["recipient"], status=row["status"],
        attempts=row["attempts"], smtp_message_id=row["smtp_message_id"],
        last_error=row["last_error"], updated_at=row["updated_at"], purpose=row["purpose"])
