"""The MQR's data stage under cProfile, with each source's opening and each statement timed.

    python benchmarks/profile_data.py --data DIR [--config monthly_quality_report.yaml]
        [--period 2026-09] [--csv-cache DIR] [--top 12]

Prints the CPU and wall seconds of opening each source (its contract check and data-quality
counts), the costliest statements with their source, result rows and first words, the
statements' CPU per source, then cProfile's functions by cumulative time.  Statements of two
sources run at once on two threads, and CPU is the process's: per-statement CPU counts what
ran beside it too, so read it as a ranking.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench_scale import layout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--config", default="monthly_quality_report.yaml")
    parser.add_argument("--period", default="2026-09")
    parser.add_argument("--csv-cache", type=Path)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()

    from reportgen.data import csv_cache
    from reportgen.data.store import DataStore
    from reportgen.period import Period
    from reportgen.plan import load_definition, resolve
    from reportgen.run.compute import compute_metrics, open_store

    if args.csv_cache:
        csv_cache.configure(args.csv_cache)
    statements: list[tuple[float, float, str, int, str]] = []
    opened: list[tuple[float, float, str]] = []
    execute, source = DataStore._execute, DataStore.source

    def timed_execute(self: Any, handle: Any, statement: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        out = execute(self, handle, statement)
        statements.append((time.process_time() - cpu, time.perf_counter() - wall, handle.name,
                           len(out[1]), " ".join(handle.statements[-1].split())))
        return out

    def timed_source(self: Any, name: str) -> Any:
        new = name not in self._handles
        wall, cpu = time.perf_counter(), time.process_time()
        out = source(self, name)
        if new:
            opened.append((time.process_time() - cpu, time.perf_counter() - wall, name))
        return out

    DataStore._execute = timed_execute  # type: ignore[method-assign]
    DataStore.source = timed_source  # type: ignore[method-assign]
    work, config = layout(args.data, args.config)
    try:
        plan = resolve(load_definition(config))
        period = Period.parse(args.period, plan.definition.period.grain,
                              plan.definition.period.timezone)
        profile = cProfile.Profile()
        cpu = time.process_time()
        with open_store(plan, period) as store:
            profile.enable()
            compute_metrics(plan, store, period)
            profile.disable()
        print(f"data stage: cpu {time.process_time() - cpu:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("opening each source (contract, data-quality counts): cpu s, wall s")
    for cpu_s, wall_s, name in sorted(opened, reverse=True):
        print(f"  {cpu_s:7.2f} {wall_s:7.2f}  {name}")
    print(f"the {args.top} costliest statements: cpu s, wall s, source, result rows, SQL")
    for cpu_s, wall_s, name, rows, sql in sorted(statements, reverse=True)[:args.top]:
        print(f"  {cpu_s:7.2f} {wall_s:7.2f}  {name:<20} {rows:>9,}  {sql[:120]}")
    per_source: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for cpu_s, _, name, _, _ in statements:
        per_source[name][0] += cpu_s
        per_source[name][1] += 1
    print("statements per source: cpu s, count")
    for name, (cpu_s, count) in sorted(per_source.items(), key=lambda kv: -kv[1][0]):
        print(f"  {cpu_s:7.2f} {int(count):5d}  {name}")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    sys.exit(main())
