"""A small, real stand-in for the report pipeline, for delivery, runner and scheduling tests.

It honours the same contract as ``reportgen.run.build`` (build, render; definitions are
loaded by the real ``load_definition``, re-exported here) on a tiny scale: it counts the rows of the definition's first CSV source inside the period, holds
the run when a ``min_rows`` gate is not met, and writes a real one-page PDF (and a PPTX
when asked) through ``write_atomically``.  Settings can name this module as ``pipeline``
so scheduled jobs use it too.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from reportgen.definition import LoadedDefinition
from reportgen.errors import GateFailure
from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.render.files import write_atomically
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.report_model import Artifact, PeriodInfo, Provenance, ReportModel
from reportgen.report.model.sections import Finding, Kpi
from support.smtp_server import SmtpServer

__all__ = ["load_definition", "build_report", "render_outputs"]


@dataclass(frozen=True)
class StandinResult:
    """Shaped like ``reportgen.run.build.BuildResult``."""

    model: ReportModel
    gate_results: tuple[Any, ...] = ()
    input_hashes: Mapping[str, str] = field(default_factory=dict)


def count_rows(loaded: LoadedDefinition, period: Period) -> tuple[str, int, str]:
    name, source = next(iter(loaded.definition.sources.items()))
    file = loaded.base_dir / (source.path or "")
    count = 0
    with file.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            moment = datetime.fromisoformat(row[source.time_column])
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=period.tz)
            count += period.contains(moment)
    return name, count, hashlib.sha256(file.read_bytes()).hexdigest()


def build_report(loaded: LoadedDefinition, period: Period, *, now: datetime) -> StandinResult:
    definition = loaded.definition
    source, count, digest = count_rows(loaded, period)
    held = [f"source '{gate.source}': {count} rows in {period.key}, fewer than the "
            f"{gate.min:g} required"
            for gate in definition.gates
            if gate.kind == "min_rows" and gate.action == "hold" and count < (gate.min or 0)]
    if held:
        raise GateFailure(held)
    spec = definition.metrics[0]
    metric = MetricResult(metric_id=spec.id, label=spec.title, calculator=spec.calculator,
                          unit="count", direction="higher", value=float(count), n=count)
    kpi = Kpi(metric=metric, value_text=f"{count:,}", delta_text="+3 vs last month",
              interval_text="", n_text=f"n = {count}", target_text="", status_text="On target",
              delta_tone="good", arrow="up", significance_text="")
    model = ReportModel(
        report_id=definition.id, title=definition.title, organisation=definition.organisation,
        period=PeriodInfo(key=period.key, label=period.label, grain=period.grain,
                          start=period.start, end=period.end, timezone=period.timezone,
                          date_range=period.date_range_label,
                          previous_label=period.previous().label),
        generated_at=now, summary_kpis=(kpi,),
        findings=(Finding(kind="note", metric_id=spec.id, scope="all",
                          sentence=f"{count} tickets <reviewed> & counted.", severity=0.1),),
        sections=(), methodology=(),
        provenance=Provenance(definition_hash=loaded.hash, input_hashes={source: digest},
                              row_counts={source: count}, code_version="standin",
                              period=period.key, generated_at=now.astimezone(UTC)),
        owner=definition.owner or "", metrics={spec.id: metric},
    )
    return StandinResult(model=model, input_hashes={source: digest})


def tiny_pdf(text: str) -> bytes:
    """A valid one-page PDF showing ``text`` (pypdf can read it back)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = f"BT /F1 12 Tf 20 100 Td ({escaped}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 144] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return out


def render_outputs(loaded: LoadedDefinition, result: StandinResult,
                   out_dir: Path) -> list[Artifact]:
    model = result.model
    artifacts = []
    for output in loaded.definition.outputs:
        path = out_dir / f"{model.report_id}-{model.period.key}.{output.format}"
        if output.format == "pdf":
            text = f"{model.title} {model.period.label}: {model.summary_kpis[0].value_text}"
            artifacts.append(write_atomically(path, "pdf",
                                              lambda tmp, t=text: tmp.write_bytes(tiny_pdf(t))))
        else:
            from pptx import Presentation

            def write_deck(tmp: Path) -> None:
                deck = Presentation()
                slide = deck.slides.add_slide(deck.slide_layouts[0])
                slide.shapes.title.text = model.title
                deck.save(str(tmp))

            artifacts.append(write_atomically(path, "pptx", write_deck))
    return artifacts


# --- inputs for tests ------------------------------------------------------------------
RECIPIENTS = {"to": ["director@example.com"], "cc": ["manager@example.com"],
              "bcc": ["auditor@example.com"]}
OWNER = "qa-lead@example.com"


def write_rows(csv_path: Path, period: Period, rows: int) -> None:
    """Write ``rows`` tickets spread over ``period`` (plus one before it, to be ignored)."""
    lines = ["ticket_id,created_at"]
    before = period.start_at - timedelta(days=3)
    lines.append(f"0,{before.isoformat()}")
    step = (period.end_at - period.start_at) / (rows + 1)
    lines += [f"{i + 1},{(period.start_at + step * (i + 1)).isoformat()}" for i in range(rows)]
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def definition_text(report_id: str = "mqr", *, title: str = "Monthly Quality Report",
                    min_rows: int = 5, cron: str = "0 7 2 * *", grace_minutes: float = 60,
                    recipients: dict[str, list[str]] | None = None,
                    extra: dict[str, Any] | None = None) -> str:
    data: dict[str, Any] = {
        "id": report_id, "title": title, "owner": OWNER, "organisation": "Acme Support",
        "period": {"grain": "month", "timezone": "Europe/Berlin"},
        "sources": {"tickets": {"kind": "csv", "path": "tickets.csv",
                                "time_column": "created_at"}},
        "metrics": [{"id": "volume", "calculator": "volume", "source": "tickets",
                     "label": "Tickets"}],
        "sections": [{"id": "overview", "title": "Overview", "kpis": ["volume"]}],
        "gates": [{"kind": "min_rows", "source": "tickets", "min": min_rows}],
        "schedule": {"cron": cron, "grace_minutes": grace_minutes,
                     "retry": {"every_minutes": 60, "backoff": 2, "deadline_hours": 72}},
        "delivery": {"email": {**(recipients or RECIPIENTS),
                               "subject": "{title} — {period} ({organisation})"}},
    }
    data.update(extra or {})
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def settings_file(folder: Path, server: SmtpServer | None, **extra: Any) -> Path:
    """A settings YAML using the stand-in pipeline, a ledger and out dir inside ``folder``."""
    data: dict[str, Any] = {"ledger_url": "sqlite:///runs.sqlite", "out_dir": "out",
                            "pipeline": "support.standin_pipeline", "lock_minutes": 5}
    if server is not None:
        data["smtp"] = {"host": server.host, "port": server.port, "security": "none",
                        "from_address": "reports@example.com", "timeout": 5, "attempts": 1}
    data.update(extra)
    path = folder / "settings.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path
