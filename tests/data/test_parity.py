"""The data layer computes every demo metric exactly as the pandas path did.

``parity_golden.json`` holds every value, interval bound, n, p-value and breakdown row of
the demo MQR and QBR, recorded from the pandas data path before aggregation moved into the
databases (``scripts/record_parity_golden.py`` says how).  Numbers must agree to 1e-9
(relative); counts, keys, labels and flags exactly.  ``formula`` (the methodology's wording
of the calculation) is text, not a computed value, and is not compared: its wording belongs
to the text authority and changes on purpose.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from support.paths import REPO

GOLDEN = Path(__file__).with_name("parity_golden.json")
sys.path.insert(0, str(REPO / "scripts"))

from record_parity_golden import REPORTS, metric_results, plain  # noqa: E402

TEXT_ONLY = {"formula"}
#: fields added to a metric's result after the golden was recorded, with what they must
#: hold on the demo data: no demo value is off its scale or negative, so nothing is left out
AFTER_GOLDEN: dict[str, Any] = {"left_out": []}


def differences(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Every place ``actual`` differs from ``expected`` (numbers: relative 1e-9)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted((set(expected) | set(actual)) - TEXT_ONLY):
            if key not in expected and key in AFTER_GOLDEN and key in actual:
                out += differences(AFTER_GOLDEN[key], actual[key], f"{where}.{key}")
                continue
            if key not in actual or key not in expected:
                out.append(f"{where}.{key}: only in {'golden' if key in expected else 'new'}")
                continue
            out += differences(expected[key], actual[key], f"{where}.{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(expected)} items, now {len(actual)}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for d in differences(e, a, f"{where}[{i}]")]
    if isinstance(expected, float | int) and isinstance(actual, float | int) \
            and not isinstance(expected, bool) and not isinstance(actual, bool):
        if math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12):
            return []
        return [f"{where}: {expected!r}, now {actual!r}"]
    return [] if expected == actual else [f"{where}: {expected!r}, now {actual!r}"]


@pytest.mark.parametrize("config", sorted(REPORTS))
def test_every_demo_metric_equals_the_pandas_path(config, example_config):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))[config]
    path = example_config(config)
    results = metric_results(path, golden["period"])
    actual = json.loads(json.dumps({k: plain(v) for k, v in results.items()}))
    found = differences(golden["metrics"], actual, config)
    assert not found, f"{len(found)} differences:\n" + "\n".join(found[:40])


def test_the_comparison_notices_a_change():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))["monthly_quality_report.yaml"]
    changed = json.loads(json.dumps(golden["metrics"]))
    changed["csat"]["interval"]["low"] *= 1 + 1e-8
    changed["csat"]["breakdowns"]["queue"].pop()
    found = differences(golden["metrics"], changed)
    assert any("csat.interval.low" in f for f in found)
    assert any("csat.breakdowns.queue" in f for f in found)
    changed["csat"]["formula"] = "reworded"
    assert not any("formula" in f for f in differences(golden["metrics"], changed))
