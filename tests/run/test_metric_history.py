"""A metric may read more history than its report (``metrics[].history``): a KPI's seasonal
baseline needs three years where the report's trends show thirteen months.  The sources are
read over the longest span; every other metric keeps the report's periods and its numbers."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.build import build_report

SEPTEMBER = Period(date(2026, 9, 1), "month")
NOW = datetime(2026, 10, 2, 7, 0, tzinfo=UTC)


def _contacts(path: Path) -> None:
    """36 months of contacts with a season, and a last month far above its usual level."""
    rng = np.random.default_rng(20261207)
    rows = ["created_at,queue"]
    for i, month in enumerate(SEPTEMBER.trailing(36)):
        season = 1.0 + 0.2 * np.cos(2 * np.pi * month.start.month / 12)
        count = int(rng.poisson(300 * season * (1.6 if i == 35 else 1.0)))
        rows += [f"{month.start.isoformat()} 12:00:00,Billing"] * count
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _report(tmp_path: Path, *, with_baseline: bool):
    _contacts(tmp_path / "contacts.csv")
    baseline = textwrap.indent(textwrap.dedent("""
        - id: unusual
          label: Contacts
          calculator: kpi_anomaly
          source: contacts
          params: {kpi: volume}
          history: 36
        """), "  ") if with_baseline else ""
    (tmp_path / "report.yaml").write_text(textwrap.dedent("""
        id: history
        title: History
        period: {grain: month, timezone: UTC, history: 13}
        sources:
          contacts: {kind: csv, path: contacts.csv, time_column: created_at,
                     columns: {queue: str}}
        metrics:
          - {id: contacts, calculator: volume, source: contacts}
        """) + baseline + textwrap.dedent(f"""
        sections:
          - {{id: main, title: Main, kpis: [contacts{', unusual' if with_baseline else ''}]}}
        outputs: [{{format: pdf}}]
        """), encoding="utf-8")
    return build_report(load_definition(tmp_path / "report.yaml"), SEPTEMBER, now=NOW).model


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory):
    return (_report(tmp_path_factory.mktemp("alone"), with_baseline=False),
            _report(tmp_path_factory.mktemp("beside"), with_baseline=True))


def test_a_metric_reads_its_own_history_and_the_others_keep_the_reports(reports) -> None:
    alone, beside = reports
    unusual = beside.metrics["unusual"]
    assert len(unusual.history) == 36 and unusual.history[0].period == "2023-10"
    band = unusual.details["anomaly"]
    assert band["periods"] == 35 and band["band"] and band["outside"] and band["trend"]
    # the report's other metric is the same result whether or not a metric reads further back
    assert beside.metrics["contacts"] == alone.metrics["contacts"]
    assert len(beside.metrics["contacts"].history) == 13


def test_the_finding_says_the_month_is_unusual(reports) -> None:
    _, beside = reports
    (found,) = [f for s in beside.sections for f in s.findings if f.kind == "anomaly"]
    assert found.sentence.startswith("Contacts was unusually high in September 2026: ")
    assert "from a seasonal baseline of 35 months with a trend" in found.sentence
