"""Time each stage of the demo reports: data generation, load, metrics, charts, render.

    .venv/bin/python benchmarks/bench_pipeline.py [--repeat 3] [--keep DIR]

Prints one line per stage with the best wall time over the repeats, plus peak memory.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reportgen.definition import load_definition  # noqa: E402
from reportgen.demo import generate_demo_data  # noqa: E402
from reportgen.period import Period  # noqa: E402
from reportgen.pipeline import (  # noqa: E402
    build_charts,
    build_insights,
    compute_metrics,
    fetch_sources,
    render_outputs,
)
from reportgen.pipeline import build_report as build  # noqa: E402

NOW = datetime(2026, 10, 2, 7, tzinfo=UTC)


def timed(label: str, repeat: int, work: Callable[[], Any]) -> Any:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    spread = f"  (median {statistics.median(times):.2f} s)" if repeat > 1 else ""
    print(f"{label:<44} {min(times):8.2f} s{spread}")
    return result


def bench_report(work: Path, name: str, period_text: str, args: argparse.Namespace) -> None:
    target = work / "configs" / name
    shutil.copy(REPO / "configs" / name, target)
    loaded = load_definition(target)
    d = loaded.definition
    period = Period.parse(period_text, d.period.grain, d.period.timezone)
    print(f"--- {d.id} {period.label}: {len(d.metrics)} metrics, {len(d.charts)} charts")
    sources = timed("  load sources", args.repeat, lambda: fetch_sources(loaded, period))
    frames = {k: v.frame for k, v in sources.items()}
    print(f"  {'rows loaded':<42} {sum(len(f) for f in frames.values()):8,}")
    metrics = timed("  compute metrics", args.repeat, lambda: compute_metrics(d, frames, period))
    timed("  insights", args.repeat, lambda: build_insights(d, metrics, frames, period))
    timed("  charts", args.repeat, lambda: build_charts(d, metrics, period))
    result = timed("  build_report (all pure stages)", 1, lambda: build(loaded, period, now=NOW))
    out = args.keep or work / "render"
    artifacts = timed("  render " + ", ".join(o.format for o in d.outputs), 1,
                      lambda: render_outputs(loaded, result, out))
    for a in artifacts:
        print(f"  {Path(a.path).name:<42} {a.size / 1024:8.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the outputs in this folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="reportgen-bench-"))
    try:
        demo = work / "out" / "demo"
        timed("demo data, 13 months", args.repeat,
              lambda: generate_demo_data(demo, seed=7, end_month=date(2026, 9, 1)))
        (work / "configs").mkdir()
        bench_report(work, "monthly_quality_report.yaml", "2026-09", args)
        bench_report(work, "qbr.yaml", "2026-Q3", args)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{'peak memory':<44} {peak:8.0f} MiB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
