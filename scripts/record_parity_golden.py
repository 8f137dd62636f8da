"""Record every metric value of the demo MQR and QBR as a golden file.

The parity test (tests/data/test_parity.py) compares the data layer's results with this
file.  It was recorded from the pandas data path (commit 5aada52, where this function read
``fetch_sources`` + ``compute_metrics(definition, frames, period)``) with:

    .venv/bin/python scripts/record_parity_golden.py tests/data/parity_golden.json

Run it again only when a metric's definition changes on purpose, and say why in the commit.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
REPORTS = {"monthly_quality_report.yaml": "2026-09", "qbr.yaml": "2026-Q3"}


def plain(value: Any) -> Any:
    """A JSON-able copy: dataclasses as dicts, non-finite floats as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    return value


def metric_results(config: Path, period_text: str) -> dict[str, Any]:
    from reportgen.period import Period
    from reportgen.plan import load_definition, resolve
    from reportgen.run.build import compute_metrics, open_store

    plan = resolve(load_definition(config))
    spec = plan.definition.period
    period = Period.parse(period_text, spec.grain, spec.timezone)
    with open_store(plan, period) as store:
        return compute_metrics(plan, store, period)


def record(out: Path) -> None:
    from reportgen.demo import generate_demo_data

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate_demo_data(root / "out" / "demo", seed=7, end_month=date(2026, 9, 1), months=13)
        (root / "configs").mkdir()
        golden: dict[str, Any] = {}
        for name, period in REPORTS.items():
            shutil.copy(REPO / "configs" / name, root / "configs" / name)
            results = metric_results(root / "configs" / name, period)
            golden[name] = {"period": period,
                            "metrics": {k: plain(v) for k, v in results.items()}}
    out.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    record(parser.parse_args().out)
