"""The example MQR's e-mail carries its queue scorecard as one table (HTML) and as lines
(plain text), received on a real SMTP server on loopback."""

from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
from support.smtp_server import SmtpServer, smtp_settings

from reportgen.definition.delivery_specs import EmailSpec
from reportgen.delivery.content import MailContent
from reportgen.delivery.email import deliver_email
from reportgen.ledger.store import Ledger
from reportgen.report.model.report_model import Artifact
from reportgen.text.sparks import GLYPHS

MIN_N = 30  # the example MQR's statistics.min_n


class Tables(HTMLParser):
    """Every table's rows as lists of cell texts (nested tables listed on their own)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._open: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "table":
            self._open.append([])
        elif tag == "tr" and self._open:
            self._open[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._open:
            self._open[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._open:
            self.tables.append(self._open.pop())

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def september_csat(demo_dir: Path) -> pd.Series:
    rows = pd.read_csv(demo_dir / "csat_responses.csv")
    rows = rows[rows["rating"].between(1, 5)]
    local = pd.to_datetime(rows["responded_at"]).dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")
    rows = rows[local.dt.strftime("%Y-%m") == "2026-09"]
    grouped = (rows["rating"] >= 4).groupby(rows["queue"])
    return grouped.mean().where(grouped.size() >= MIN_N)


def test_the_mail_carries_the_scorecard_table_and_lines(demo_mqr_pdf, demo_dir, ledger: Ledger,
                                                        smtp_server: SmtpServer) -> None:
    model, pdf = demo_mqr_pdf
    data = pdf.read_bytes()
    artifact = Artifact("pdf", str(pdf), len(data), hashlib.sha256(data).hexdigest())
    run_id = ledger.start_run(model.report_id, model.period.key, trigger="manual",
                              definition_hash="test", code_version="test")
    ledger.record_artifacts(run_id, [artifact])
    content = MailContent.from_model(model)
    # what the ledger keeps for a resend reads back the same
    assert MailContent.from_json(json.loads(json.dumps(content.to_json()))) == content

    spec = EmailSpec(to=["director@example.com"])
    report = deliver_email(content, [artifact], spec, smtp_settings(smtp_server), ledger=ledger,
                           run_id=run_id, sleep=lambda s: None)
    assert [o.status for o in report.outcomes] == ["sent"]
    (received,) = smtp_server.by_recipient()["director@example.com"]
    message = received.message
    html = message.get_body(("html",)).get_content()
    plain = message.get_body(("plain",)).get_content()

    parser = Tables()
    parser.feed(html)
    (table,) = [t for t in parser.tables if t and t[0][:1] == ["Queue"]]
    assert table[0] == ["Queue", "CSAT", "QA score", "Tickets created"]
    by_queue = {row[0]: row[1:] for row in table[1:]}
    expected = september_csat(demo_dir)
    assert set(by_queue) == set(expected.index)
    for queue, share in expected.items():
        csat = by_queue[queue][0]
        if pd.isna(share):
            assert csat == "—", queue
            continue
        value, *rest = csat.split()
        assert value == f"{share * 100:.1f}%", (queue, csat)
        # change, status and the 13-month trend follow the value in the cell
        assert any(word in csat for word in ("On target", "At risk", "Off target")), csat
        assert sum(ch in GLYPHS for ch in rest[-1]) >= 2, csat

    # plain text: one line per queue, CSAT first
    lines = plain.split("Scorecard by queue:\n", 1)[1].splitlines()
    for queue, share in expected.items():
        line = next(line for line in lines if line.startswith(f"- {queue}: "))
        shown = "—" if pd.isna(share) else f"{share * 100:.1f}%"
        assert line.startswith(f"- {queue}: CSAT {shown}"), line
    # the headline lines carry their trend too
    csat_line = next(line for line in plain.splitlines() if line.startswith("- CSAT: "))
    assert sum(ch in GLYPHS for ch in csat_line) == len(model.metrics["csat"].history)
