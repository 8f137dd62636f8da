"""Small fan-out definitions over the demo tickets, for the delivery and worker tests."""

from __future__ import annotations

import re
from pathlib import Path

QUEUES = ("Billing", "Payments", "Returns")


def lead(report: str, queue: str) -> str:
    return f"{report}-{re.sub(r'[^a-z0-9]+', '-', queue.lower())}-lead@example.com"


def write_fanout(folder: Path, demo_dir: Path, report: str, queues=QUEUES, *,
                 extra_rows: str = "", owners_rows: str | None = None,
                 recipients_from: str | None = None, pii: tuple[str, ...] = ()) -> Path:
    """A per-queue scorecard (xlsx) mailed to each queue's lead and, whole, to a director.

    ``owners_rows`` replaces the owners file's rows; ``recipients_from`` the YAML flow
    mapping of the same name; ``pii`` the tickets columns declared personal data."""
    folder.mkdir(parents=True, exist_ok=True)
    owners = folder / f"{report}-owners.csv"
    rows = "".join(f"{q},{lead(report, q)}\n" for q in queues) if owners_rows is None \
        else owners_rows
    owners.write_text("queue,lead_email\n" + rows + extra_rows, encoding="utf-8")
    recipients = recipients_from or f"{{file: {owners.name}, key: queue, email: lead_email}}"
    path = folder / f"{report}.yaml"
    path.write_text(f"""\
id: {report}
title: Queue scorecard
owner: owner-{report}@example.com
period: {{grain: month, timezone: Europe/Berlin, history: 3}}
sources:
  tickets:
    kind: csv
    path: {demo_dir / 'tickets.csv'}
    time_column: created_at
    columns: {{queue: str, channel: str, status: str, reopened: int, sla_met: int,
              customer_email: str}}
    pii: [{", ".join(pii)}]
metrics:
  - {{id: sla, label: First-reply SLA met, calculator: sla_attainment, source: tickets,
     params: {{column: sla_met}}, by: [channel], target: 0.85}}
  - {{id: reopen_rate, label: Reopen rate, calculator: reopen_rate, source: tickets,
     params: {{column: reopened, status_column: status, among: [solved]}}}}
sections:
  - {{id: ops, title: Operations, kpis: [sla, reopen_rate]}}
outputs:
  - {{format: xlsx}}
delivery:
  email:
    to: [director-{report}@example.com]
    attach: []
fan_out:
  by: queue
  values: [{", ".join(queues)}]
recipients_from: {recipients}
""", encoding="utf-8")
    return path


def expected_recipients(report: str, queues=QUEUES) -> set[str]:
    return {f"director-{report}@example.com", *(lead(report, q) for q in queues)}
