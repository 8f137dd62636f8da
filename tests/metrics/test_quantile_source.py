"""Quantile metrics computed in the database equal the same metrics computed from rows.

Seeded random tickets over thirteen months (so a change against last year is tested too),
with ties, NULLs, negative durations, an all-equal group and groups of 0, 1 and 2 values,
are read as CSV, as Parquet and from PostgreSQL.  Each report is computed twice over the
same store: once as a run computes it (quantiles in SQL), once with every quantile metric
reading its rows into numpy and scipy (the path SQLite sources keep).  Every value, bound,
n, statistic, p-value and breakdown row must agree to 1e-9.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from support.parity import differences, plain

from reportgen.metrics import quantile_source
from reportgen.period import Period
from reportgen.plan import load_definition, resolve
from reportgen.report.model.metric_results import ALL_EQUAL
from reportgen.run import compute
from reportgen.run.compute import compute_metrics, open_store

PERIOD = "2026-10"
MONTHS = pd.period_range("2025-10", PERIOD, freq="M")


def tickets(seed: int = 7) -> pd.DataFrame:
    """Tickets of thirteen months; 'Big' is a skewed queue with ties (values rounded),
    NULLs and negatives, 'Same' holds one value, 'One'/'Two' one or two, 'Void' none that
    count (only NULLs and negatives)."""
    rng = np.random.default_rng(seed)
    rows = []
    for month in MONTHS:
        start = month.start_time
        spread = 1.0 + 0.3 * (month == MONTHS[-1])  # the last month is slower: a change
        sizes = {"Big": int(rng.integers(120, 220)), "Same": 12, "One": 1, "Two": 2, "Void": 3}
        for queue, size in sizes.items():
            for _ in range(size):
                minutes = float(np.round(rng.lognormal(3.0, spread), 1))
                hours = float(np.round(rng.gamma(2.0, 9.0), 0))
                days = float(rng.integers(0, 15))
                if queue == "Same":
                    minutes, hours, days = 7.0, 30.0, 4.0
                draw = rng.random() if queue in ("Big", "Same") else 1.0
                if queue == "Void" or draw < 0.05:
                    minutes = hours = days = None if rng.random() < 0.5 else -3.0
                elif draw < 0.08:
                    minutes, hours, days = -1.0, -2.0, None
                rows.append({
                    "created_at": start + pd.Timedelta(minutes=int(rng.integers(0, 40_000))),
                    "queue": queue, "channel": str(rng.choice(["chat", "email"])),
                    "status": str(rng.choice(["solved", "solved", "open"])),
                    "first_response_minutes": minutes, "resolution_hours": hours,
                    "days_to_resolve": days,
                })
    return pd.DataFrame(rows)


COLUMNS = ("{queue: str, channel: str, status: str, first_response_minutes: float, "
           "resolution_hours: float, days_to_resolve: float}")


def definition(folder: Path, source: str) -> Path:
    path = folder / "quantiles.yaml"
    path.write_text(f"""\
id: quantiles
title: Quantiles
period: {{grain: month, timezone: UTC, history: 13}}
statistics: {{min_n: 1, confidence: 0.9}}
sources:
  tickets:
{source}
    time_column: created_at
    columns: {COLUMNS}
metrics:
  - {{id: frt, label: FRT, calculator: first_response_time, source: tickets, by: [[queue]]}}
  - id: p90
    label: P90
    calculator: resolution_time
    source: tickets
    params: {{quantile: 0.9, unit: hours}}
    filter: {{status: solved}}
    by: [[queue], [queue, channel]]
  - id: days
    label: Days
    calculator: dispute_resolution_days
    source: tickets
    by: [[channel]]
  - {{id: volume, label: Tickets, calculator: volume, source: tickets}}
sections:
  - {{id: main, title: Main, kpis: [frt, p90, days, volume]}}
""", encoding="utf-8")
    return path


def both_paths(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict, str, str]:
    plan = resolve(load_definition(path))
    period = Period.parse(PERIOD, "month", "UTC")
    asked: dict[str, int] = {}
    order_request = quantile_source.order_request

    def counted(prefix: str, *args: object) -> object:
        asked[prefix] = len(args[-1])  # the fractions: four per group at most
        return order_request(prefix, *args)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(quantile_source, "order_request", counted)
        with open_store(plan, period) as store:
            in_sql = compute_metrics(plan, store, period)
            sql_statements = " ".join(store.statements()["tickets"])
    # each metric's order statistics are asked for its own groups only (its n comes in the
    # statement of every metric's aggregates, which holds every other breakdown's groups
    # too): per month, overall and per queue (5) for frt, per channel (2) for days
    assert asked["frt#order"] <= 4 * 13 * (1 + 5), asked
    assert asked["days#order"] <= 4 * 13 * (1 + 2), asked
    with monkeypatch.context() as patch:
        patch.setattr(compute, "in_sql", lambda *args: [])
        with open_store(plan, period) as store:
            from_rows = compute_metrics(plan, store, period)
            rows_statements = " ".join(store.statements()["tickets"])
    return ({k: plain(v) for k, v in in_sql.items()}, {k: plain(v) for k, v in from_rows.items()},
            sql_statements, rows_statements)


def check_equal(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_sql, from_rows, sql, rows_sql = both_paths(path, monkeypatch)
    assert "percentile_cont" in sql and "percentile_disc" in sql
    assert "percentile_cont" not in rows_sql and "percentile_disc" not in rows_sql
    found = differences(from_rows, in_sql)
    assert not found, f"{len(found)} differences:\n" + "\n".join(found[:40])
    # the data reach every case the SQL path has to get right
    frt = from_rows["frt"]
    rows = {r["key"][0] if isinstance(r["key"], list) else r["key"]: r
            for r in frt["breakdowns"]["queue"]}
    assert frt["interval"] is not None and frt["change"]["p_value"] is not None
    assert frt["year_over_year"]["p_value"] is not None
    assert rows["Same"]["interval"]["method"] == ALL_EQUAL
    assert rows["One"]["n"] == 1 and rows["Two"]["n"] == 2 and rows["Void"]["n"] == 0
    assert from_rows["p90"]["interval"] is not None and from_rows["p90"]["left_out"]


def test_csv_quantiles_in_sql_equal_the_rows_path(tmp_path, monkeypatch):
    tickets().to_csv(tmp_path / "tickets.csv", index=False)
    source = "    kind: csv\n    path: tickets.csv"
    check_equal(definition(tmp_path, source), monkeypatch)


def test_parquet_quantiles_in_sql_equal_the_rows_path(tmp_path, monkeypatch):
    tickets(11).to_parquet(tmp_path / "tickets.parquet", index=False)
    source = "    kind: parquet\n    path: tickets.parquet"
    check_equal(definition(tmp_path, source), monkeypatch)


def test_postgresql_quantiles_in_sql_equal_the_rows_path(tmp_path, monkeypatch, postgres_url):
    engine = sa.create_engine(postgres_url)
    tickets(13).to_sql("tickets", engine, index=False)
    engine.dispose()
    source = f"    kind: sql\n    url: {postgres_url}\n    table: tickets"
    check_equal(definition(tmp_path, source), monkeypatch)
