"""A regeneration after a change of words only, against rendering alone.

    .venv/bin/python benchmarks/bench_regenerate.py prepare WORK
    .venv/bin/python benchmarks/measure.py --pair --runs 5 \\
        '.venv/bin/python benchmarks/bench_regenerate.py regenerate WORK' \\
        '.venv/bin/python benchmarks/bench_regenerate.py render WORK'

``prepare`` writes the demo data and the demo MQR's definition into WORK, builds the report
once (keeping what it computed and the charts it drew, as every run does) and pickles that
build, its charts drawn, for ``render``; then it changes the report's title and a section
title, as an analyst editing words would.  ``regenerate`` is what a run does next: it finds
that only words changed, reuses what was computed and every chart drawn from it (it loads
no drawing code), assembles the model and renders the PDF.  ``render`` is the floor: the
PDF of the pickled build, nothing else.  Both are whole processes (the same imports), so
their ratio is what the reuse costs beyond rendering.
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import sys
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reportgen.period import Period  # noqa: E402
from reportgen.plan import load_definition  # noqa: E402
from reportgen.run.build import build_report, render_outputs  # noqa: E402

NOW = datetime(2026, 10, 2, 7, tzinfo=UTC)
DEFINITION = "configs/monthly_quality_report.yaml"


def _period(loaded) -> Period:  # type: ignore[no-untyped-def]
    spec = loaded.definition.period
    return Period.parse("2026-09", spec.grain, spec.timezone)


def prepare(work: Path) -> None:
    from reportgen.demo import generate_demo_data

    (work / "configs").mkdir(parents=True, exist_ok=True)
    if not (work / "out" / "demo" / "tickets.csv").exists():
        generate_demo_data(work / "out" / "demo", seed=7, end_month=date(2026, 9, 1), months=13)
    shutil.copy(REPO / DEFINITION, work / DEFINITION)
    loaded = load_definition(work / DEFINITION)
    built = build_report(loaded, _period(loaded), now=NOW, reuse_dir=work / "reuse")
    (work / "build.pickle").write_bytes(pickle.dumps(built))
    text = (work / DEFINITION).read_text(encoding="utf-8")
    edited = text.replace("title: Monthly Quality Report", "title: Monthly Quality Readout", 1)
    assert edited != text, "the definition's title line was not found"
    (work / DEFINITION).write_text(edited, encoding="utf-8")


def regenerate(work: Path) -> None:
    loaded = load_definition(work / DEFINITION)
    built = build_report(loaded, _period(loaded), now=NOW, reuse_dir=work / "reuse")
    assert built.model.title == "Monthly Quality Readout"
    assert "matplotlib" not in sys.modules, "a chart was drawn again: only words changed"
    render_outputs(loaded, built, work / "regenerated")


def render(work: Path) -> None:
    loaded = load_definition(work / DEFINITION)
    built = pickle.loads((work / "build.pickle").read_bytes())
    render_outputs(loaded, built, work / "rendered")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["prepare", "regenerate", "render"])
    parser.add_argument("work", type=Path)
    args = parser.parse_args()
    {"prepare": prepare, "regenerate": regenerate, "render": render}[args.step](args.work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
