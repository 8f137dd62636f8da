"""Small seeded random reports: generated tickets and a definition drawn from a few
calculators, breakdowns, targets and locales, for checks that must hold for any report."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

QUEUES = ("Billing", "Returns", "Onboarding", "Tier 2", "Shipping")
CHANNELS = ("Email", "Chat", "Phone")
#: (metric id, calculator, params, unit-like target range)
METRICS: tuple[tuple[str, str, dict[str, Any], tuple[float, float] | None], ...] = (
    ("csat", "csat", {"column": "rating", "scale": 5, "good_from": 4}, (0.6, 0.95)),
    ("sla", "sla_attainment", {"column": "sla_met"}, (0.7, 0.95)),
    ("reopen_rate", "reopen_rate", {"column": "reopened", "status_column": "status",
                                    "among": ["solved"]}, (0.03, 0.2)),
    ("tickets", "volume", {}, None),
    ("frt", "first_response_time", {}, (5.0, 90.0)),
)
LABELS = {"csat": "CSAT", "sla": "First-reply SLA met", "reopen_rate": "Reopen rate",
          "tickets": "Tickets created", "frt": "First response time (median)"}


def write_tickets(path: Path, rng: random.Random, months: int, end: datetime) -> None:
    """Tickets over the ``months`` months before ``end``, each queue and month with its own
    levels (so some segments and months differ beyond chance, and some do not)."""
    lines = ["ticket_id,created_at,queue,channel,rating,sla_met,reopened,status,"
             "first_response_minutes"]
    start = end - timedelta(days=31 * months)
    ticket = 0
    for month in range(months):
        for queue in rng.sample(QUEUES, rng.randint(2, len(QUEUES))):
            level = rng.uniform(0.55, 0.95)
            for _ in range(rng.randint(5, 60)):
                ticket += 1
                when = start + timedelta(days=31 * month + rng.uniform(0, 30), hours=12)
                good = rng.random() < level
                rating = rng.choice((4, 5)) if good else rng.choice((1, 2, 3))
                lines.append(",".join((
                    str(ticket), when.isoformat(), queue, rng.choice(CHANNELS), str(rating),
                    str(int(rng.random() < level)), str(int(rng.random() < 1 - level)),
                    rng.choice(("solved", "solved", "solved", "open")),
                    f"{rng.expovariate(1 / (10 + 60 * (1 - level))):.1f}")))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def random_definition(folder: Path, seed: int) -> Path:
    """A seeded random definition over its own generated tickets in ``folder``."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    write_tickets(folder / "tickets.csv", rng, months=rng.randint(3, 5),
                  end=datetime(2026, 10, 1, tzinfo=UTC))
    chosen = rng.sample(METRICS, rng.randint(2, len(METRICS)))
    metrics = []
    for metric_id, calculator, params, targets in chosen:
        metric: dict[str, Any] = {"id": metric_id, "label": LABELS[metric_id],
                                  "calculator": calculator, "source": "tickets"}
        if params:
            metric["params"] = params
        if targets is not None and rng.random() < 0.7:
            metric["target"] = round(rng.uniform(*targets), 2 if targets[1] <= 1 else 0)
        by = rng.sample(["queue", "channel"], rng.randint(0, 2))
        if by:
            metric["by"] = by
        metrics.append(metric)
    kpis = [m["id"] for m in metrics]
    tables = [{"metric": m["id"], "by": m["by"][0]} for m in metrics if m.get("by")][:2]
    data: dict[str, Any] = {
        "id": f"random-{seed}", "title": "Quality report", "organisation": "Acme Support",
        "locale": rng.choice(["en", "en", "de", "fr"]),
        "period": {"grain": "month", "timezone": "Europe/Berlin",
                   "history": rng.randint(2, 6)},
        "statistics": {"confidence": rng.choice([0.9, 0.95, 0.99]),
                       "alpha": rng.choice([0.01, 0.05, 0.1]), "min_n": rng.choice([10, 30])},
        "sources": {"tickets": {"kind": "csv", "path": "tickets.csv",
                                "time_column": "created_at",
                                "columns": {"queue": "str", "channel": "str", "rating": "int",
                                            "sla_met": "int", "reopened": "int",
                                            "status": "str",
                                            "first_response_minutes": "float"}}},
        "metrics": metrics,
        "sections": [{"id": "overview", "title": "Overview", "kpis": kpis,
                      "tables": tables, "findings": rng.randint(1, 6)}],
        "insights": {"summary_findings": rng.randint(1, 5)},
        "outputs": [{"format": "pdf"}],
    }
    path = folder / "report.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path
