"""Time a fan-out of the demo MQR per queue: one data stage, then a render per segment.

    .venv/bin/python benchmarks/bench_fanout.py [--jobs 2] [--keep DIR]

Prints the data pass (the whole report's figures and every segment's statements) once,
each segment's build (sliced from that pass) and render time, and the render stage with
``--jobs 1`` against ``--jobs N`` (speed-up; the whole run's is measured with the CLI, see
the README).
Also the cost the fan-out replaces: one ordinary build of the whole report (a YAML copy
per queue each paid this).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reportgen.data.result_cache import clear_cache  # noqa: E402
from reportgen.demo import generate_demo_data  # noqa: E402
from reportgen.period import Period  # noqa: E402
from reportgen.plan import load_definition  # noqa: E402
from reportgen.render.pool import render_all  # noqa: E402
from reportgen.run.build import build_fanout, build_report, render_outputs  # noqa: E402

NOW = datetime(2026, 10, 2, 7, tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep the data and reports in this folder")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    try:
        (root / "configs").mkdir(parents=True, exist_ok=True)
        for name in ("mqr_by_queue.yaml", "queue_owners.csv"):
            shutil.copy(REPO / "configs" / name, root / "configs" / name)
        if not (root / "out" / "demo" / "tickets.csv").exists():
            generate_demo_data(root / "out" / "demo", seed=7, end_month=date(2026, 9, 1),
                               months=13)
        loaded = load_definition(root / "configs" / "mqr_by_queue.yaml")
        spec = loaded.definition.period
        period = Period.parse("2026-09", spec.grain, spec.timezone)

        clear_cache()
        began = time.perf_counter()
        build_report(loaded, period, now=NOW)
        single = time.perf_counter() - began

        clear_cache()
        began = time.perf_counter()
        built = build_fanout(loaded, period, now=NOW, domains=["example.com"])
        build_all = time.perf_counter() - began
        made = [s for s in built.segments if s.result is not None]
        print(f"whole report, one ordinary build:       {single:7.2f} s")
        print(f"fan-out data pass (whole + the {len(made)} segments' statements, once): "
              f"{built.data_seconds:7.2f} s")
        print(f"segments built from it:                 "
              f"{sum(s.seconds for s in made):7.2f} s (metrics, findings, models)")
        print(f"fan-out build, everything:              {build_all:7.2f} s "
              f"(insights, charts and models of {len(made) + 1} reports)")
        work = [(loaded, built.whole), *((s.loaded, s.result) for s in made)]
        timings = {}
        for jobs in sorted({1, args.jobs}):
            out = root / f"reports-jobs{jobs}"
            began = time.perf_counter()
            rendered = render_all(render_outputs, work, out, jobs)
            timings[jobs] = time.perf_counter() - began
            failed = [r.error for r in rendered if r.error]
            if failed:
                print(f"render failures: {failed}")
            if jobs == 1:
                print("per-segment build / render (jobs 1):")
                for s, r in zip([None, *made], rendered, strict=True):
                    name = "(whole)" if s is None else s.plan.segment.name
                    build = 0.0 if s is None else s.seconds
                    print(f"  {name:<20} build {build:6.2f} s  render {r.seconds:6.2f} s")
        for jobs, seconds in timings.items():
            print(f"render stage, --jobs {jobs}: {seconds:7.2f} s")
        if args.jobs != 1:
            print(f"speed-up --jobs {args.jobs} vs --jobs 1: "
                  f"{timings[1] / timings[args.jobs]:.2f}x")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
