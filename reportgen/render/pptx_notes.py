"""Speaker notes and slide text built from model strings: KPIs, findings, provenance.

Every number a presenter might be asked about is in the notes, as the model's own
display strings; nothing here formats or computes a number.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportgen import text
from reportgen.report.model.report_model import MethodNote, ReportModel
from reportgen.report.model.sections import Finding, Kpi, Section


def kpi_notes(kpis: Sequence[Kpi]) -> str:
    return "\n".join(kpi_line(k) for k in kpis)


def kpi_line(kpi: Kpi) -> str:
    """Every display string of a KPI in one sentence a presenter can read out."""
    value = kpi.value_text
    detail = "; ".join(t for t in (kpi.interval_text and f"interval {kpi.interval_text}",
                                   kpi.n_text) if t)
    parts = [f"{kpi.metric.label}: {value}" + (f" ({detail})" if detail else "")]
    change = ", ".join(t for t in (kpi.delta_text, kpi.significance_text) if t)
    if change:
        parts.append(f"change {change}")
    parts.extend(t for t in (kpi.target_text, kpi.status_text) if t)
    return "; ".join(parts) + "."


def findings_notes(findings: Sequence[Finding], heading: str) -> str:
    if not findings:
        return ""
    return heading + ":\n" + "\n".join(f"- {f.sentence}" for f in findings)


def section_notes(section: Section) -> list[str]:
    """The numbers behind a section: its KPIs, findings and free notes."""
    blocks = [kpi_notes(section.kpis),
              findings_notes(section.findings, f"Findings in {section.title}")]
    if section.notes:
        blocks.append("Notes:\n" + "\n".join(f"- {n}" for n in section.notes))
    return blocks


def method_notes(note: MethodNote) -> str:
    lines = [f"{note.label}: {note.formula}", f"Test: {note.test}", note.n_text]
    lines.extend(f"Suppressed: {s}" for s in note.suppressed)
    return "\n".join(line for line in lines if line)


def provenance(model: ReportModel) -> tuple[str, str]:
    """The provenance as a one-line slide caption (short hashes) and in full for the notes."""
    prov = model.provenance
    stamp = model.generated_text or text.timestamp(prov.generated_at, model.period.timezone)

    def inputs(short: bool) -> str:
        return ", ".join(
            f"{name} {digest[:12] if short else digest}"
            + (f" ({text.count(prov.row_counts[name])} rows)" if name in prov.row_counts else "")
            for name, digest in prov.input_hashes.items()
        )

    def line(short: bool) -> str:
        digest = prov.definition_hash[:12] if short else prov.definition_hash
        return (f"Provenance: definition {digest}; inputs {inputs(short) or 'none'}; "
                f"reportgen {prov.code_version}; period {prov.period}; generated {stamp}")

    return line(True), line(False)

