"""A fan-out at scale: N segments over R ticket rows, one light report per segment.

    .venv/bin/python benchmarks/bench_fanout_scale.py data --rows 1000000 --segments 50 DIR
    .venv/bin/python benchmarks/bench_fanout_scale.py count DIR
    .venv/bin/reportgen run DIR/fanout.yaml --period 2026-09 --out DIR/out --jobs 1

``data`` writes ``tickets.parquet`` (13 months to September 2026; a ``team_lead`` column with
N values, each segment with about R/N rows) and ``fanout.yaml``: first-reply SLA by channel,
reopen rate, median first response and P90 resolution hours by priority (quantiles: read
as rows in a segment's view), one section, a PDF (``--format pdf``, the default) or an XLSX
per segment, fanned out by ``team_lead``.

``lone`` renders a few segments' reports one at a time in this process (charts drawn, files
written), the cost each would have on its own, to set against what an extra segment adds to
a whole run (the CPU of a 50-segment run less a 10-segment one, over 40).

``count`` builds the fan-out in this process and counts what the data layer ran: statements
executed per source (cache hits are not counted), rows those statements returned, and the
rows requests read; then it builds the same fan-out narrowed to one segment, so the two
counts show what each extra segment adds (nothing, when each source is read once).

The wall time, CPU and peak memory of whole runs come from ``measure.py`` over the CLI
(see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

NOW = datetime(2026, 10, 2, 7, tzinfo=UTC)

DEFINITION = """\
id: lead-scorecard
title: Team lead scorecard
owner: owner@example.com
period: {{grain: month, timezone: UTC, history: 13}}
sources:
  tickets:
    kind: parquet
    path: tickets.parquet
    time_column: created_at
    columns: {{team_lead: str, channel: str, priority: str, status: str, reopened: int,
              sla_met: int, first_response_minutes: float, resolution_hours: float}}
metrics:
  - {{id: sla, label: First-reply SLA met, calculator: sla_attainment, source: tickets,
     params: {{column: sla_met}}, by: [channel], target: 0.85}}
  - {{id: reopen_rate, label: Reopen rate, calculator: reopen_rate, source: tickets,
     params: {{column: reopened, status_column: status, among: [solved]}}}}
  - {{id: first_response, label: First response time (median),
     calculator: first_response_time, source: tickets}}
  - {{id: resolution, label: Resolution time (P90), calculator: resolution_time,
     source: tickets, params: {{quantile: 0.9}}, by: [priority]}}
sections:
  - {{id: ops, title: Operations, kpis: [sla, reopen_rate, first_response, resolution]}}
outputs:
  - {{format: {format}}}
fan_out:
  by: team_lead
  include_whole: false
"""


def write_data(folder: Path, rows: int, segments: int, fmt: str, seed: int = 7) -> None:
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SELECT setseed({(seed % 1000) / 1000})")
    con.execute(f"""
        COPY (
          SELECT
            TIMESTAMP '2025-09-01' + to_seconds(CAST(random() * 396 * 86400 AS BIGINT))
                AS created_at,
            'Lead ' || lpad(CAST(CAST(floor(random() * {segments}) AS INT) + 1 AS VARCHAR),
                            4, '0') AS team_lead,
            (['Chat', 'Email', 'Phone', 'Social'])[CAST(floor(random() * 4) AS INT) + 1]
                AS channel,
            (['Low', 'Normal', 'High', 'Urgent'])[CAST(floor(random() * 4) AS INT) + 1]
                AS priority,
            CASE WHEN random() < 0.8 THEN 'solved' ELSE 'open' END AS status,
            CAST(random() < 0.08 AS INT) AS reopened,
            CAST(random() < 0.86 AS INT) AS sla_met,
            round(-ln(1 - random()) * 40, 1) AS first_response_minutes,
            round(-ln(1 - random()) * 20, 2) AS resolution_hours
          FROM range({rows})
        ) TO '{folder / "tickets.parquet"}' (FORMAT parquet)""")
    con.close()
    (folder / "fanout.yaml").write_text(DEFINITION.format(format=fmt), encoding="utf-8")


def count(folder: Path) -> int:
    import reportgen.data.store as store_module
    from reportgen.data import result_cache
    from reportgen.period import Period
    from reportgen.plan import load_definition
    from reportgen.run.build import build_fanout

    executed: Counter[str] = Counter()
    fetched: Counter[str] = Counter()
    reads: Counter[str] = Counter()
    read_back: Counter[str] = Counter()
    execute, read_rows = store_module.DataStore._execute, store_module.DataStore.read_rows

    def counting(self, handle, statement):
        before = len(result_cache._cache)
        names, rows = execute(self, handle, statement)
        if len(result_cache._cache) > before or before >= result_cache._CACHE_SIZE:
            executed[handle.name] += 1
            fetched[handle.name] += len(rows)
        return names, rows

    def reading(self, source, columns, where=None, periods=None):
        frame = read_rows(self, source, columns, where, periods)
        reads[source] += 1
        read_back[source] += len(frame)
        return frame

    loaded = load_definition(folder / "fanout.yaml")
    spec = loaded.definition.period
    period = Period.parse("2026-09", spec.grain, spec.timezone)
    store_module.DataStore._execute = counting  # type: ignore[method-assign]
    store_module.DataStore.read_rows = reading  # type: ignore[method-assign]
    try:
        for label, narrowed in (("all segments", None), ("one segment", 1)):
            executed.clear(), fetched.clear(), reads.clear(), read_back.clear()
            result_cache.clear_cache()
            this = loaded
            if narrowed:
                first = sorted(_segments(folder))[:1]
                fan = loaded.definition.fan_out.model_copy(update={"values": first})
                this = replace(loaded, definition=loaded.definition.model_copy(
                    update={"fan_out": fan}))
            built = build_fanout(this, period, now=NOW)
            made = sum(1 for s in built.segments if s.result is not None)
            print(f"{label}: {made} segment reports built")
            for source in sorted(set(executed) | set(reads)):
                print(f"  {source}: {executed[source]} statements returning "
                      f"{fetched[source]:,} rows; {reads[source]} rows reads of "
                      f"{read_back[source]:,} rows")
    finally:
        store_module.DataStore._execute = execute  # type: ignore[method-assign]
        store_module.DataStore.read_rows = read_rows  # type: ignore[method-assign]
    return 0


def lone(folder: Path, reports: int) -> int:
    """CPU seconds of rendering a segment's report on its own (charts drawn and the
    outputs written, in this process), for the first ``reports`` segments."""
    import statistics
    import tempfile
    import time

    from reportgen.period import Period
    from reportgen.plan import load_definition
    from reportgen.run.build import build_fanout, render_outputs

    loaded = load_definition(folder / "fanout.yaml")
    spec = loaded.definition.period
    first = sorted(_segments(folder))[:reports]
    fan = loaded.definition.fan_out.model_copy(update={"values": first})
    loaded = replace(loaded, definition=loaded.definition.model_copy(update={"fan_out": fan}))
    built = build_fanout(loaded, Period.parse("2026-09", spec.grain, spec.timezone), now=NOW)
    made = [s for s in built.segments if s.result is not None]
    render_outputs(made[0].loaded, made[0].result, Path(tempfile.mkdtemp()))  # warm up
    seconds = []
    for segment in made:
        began = time.process_time()
        render_outputs(segment.loaded, segment.result, Path(tempfile.mkdtemp()))
        seconds.append(time.process_time() - began)
    print(f"lone render of a segment's report: median {statistics.median(seconds):.3f} CPU-s "
          f"over {len(seconds)} ({', '.join(f'{s:.3f}' for s in seconds)})")
    return 0


def _segments(folder: Path) -> list[str]:
    import duckdb

    return [r[0] for r in duckdb.sql(
        f"SELECT DISTINCT team_lead FROM '{folder / 'tickets.parquet'}'").fetchall()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="write the data and the definition")
    data.add_argument("folder", type=Path)
    data.add_argument("--rows", type=int, default=1_000_000)
    data.add_argument("--segments", type=int, default=50)
    data.add_argument("--format", choices=("pdf", "xlsx"), default="pdf")
    counting = sub.add_parser("count", help="count statements and rows of one fan-out build")
    counting.add_argument("folder", type=Path)
    alone = sub.add_parser("lone", help="CPU of rendering one segment's report on its own")
    alone.add_argument("folder", type=Path)
    alone.add_argument("--reports", type=int, default=5)
    args = parser.parse_args()
    if args.command == "lone":
        return lone(args.folder, args.reports)
    if args.command == "data":
        write_data(args.folder, args.rows, args.segments, args.format)
        return 0
    return count(args.folder)


if __name__ == "__main__":
    raise SystemExit(main())
