"""The demo's CSAT per queue and month straight from the raw survey file, with pandas: what
the example MQR's scorecard must show, computed without reportgen."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: the example MQR's statistics.min_n, period.history, time zone and CSAT target
MIN_N = 30
HISTORY = 13
TIMEZONE = "Europe/Berlin"
CSAT_TARGET = 0.85
MONTHS = [str(p) for p in pd.period_range(end="2026-09", periods=HISTORY, freq="M")]


def csat_by_queue_and_month(demo_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(share of 4s and 5s among the 1-5 ratings, number of those ratings) per queue (rows)
    and local month (columns); the share is NaN under the minimum n."""
    rows = pd.read_csv(demo_dir / "csat_responses.csv")
    rows = rows[rows["rating"].between(1, 5)]
    local = pd.to_datetime(rows["responded_at"]).dt.tz_localize("UTC").dt.tz_convert(TIMEZONE)
    rows = rows.assign(month=local.dt.strftime("%Y-%m"), good=rows["rating"] >= 4)
    grouped = rows.groupby(["queue", "month"])["good"]
    counts = grouped.size().unstack().reindex(columns=MONTHS).fillna(0).astype(int)
    share = grouped.mean().where(grouped.size() >= MIN_N).unstack().reindex(columns=MONTHS)
    return share, counts
