"""Record every metric value of the demo MQR and QBR as a golden file.

The parity test (tests/data/test_parity.py) compares the data layer's results with this
file.  It was recorded from the pandas data path (commit 5aada52, where this function read
``fetch_sources`` + ``compute_metrics(definition, frames, period)``) with:

    .venv/bin/python scripts/record_parity_golden.py tests/data/parity_golden.json

Run it again only when a metric's definition changes on purpose, and say why in the commit.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# the golden is written by the same code the tests compare it with (tests/support/parity.py)
sys.path.insert(0, str(REPO / "tests"))

from support.parity import REPORTS, metric_results, plain  # noqa: E402


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
