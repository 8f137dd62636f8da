"""The data layer computes every demo metric exactly as the pandas path did.

``parity_golden.json`` holds every value, interval bound, n, p-value and breakdown row of
the demo MQR and QBR, recorded from the pandas data path before aggregation moved into the
databases (``scripts/record_parity_golden.py`` says how).  Numbers must agree to 1e-9
(relative); counts, keys, labels and flags exactly.  ``formula`` (the methodology's wording
of the calculation) is text, not a computed value, and is not compared: its wording belongs
to the text authority and changes on purpose.  Metrics added to a report after the golden
was recorded are named in ``support.parity.AFTER_GOLDEN_METRICS`` and left out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.parity import AFTER_GOLDEN_METRICS, REPORTS, differences, metric_results, plain

GOLDEN = Path(__file__).with_name("parity_golden.json")


@pytest.mark.parametrize("config", sorted(REPORTS))
def test_every_demo_metric_equals_the_pandas_path(config, example_config):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))[config]
    path = example_config(config)
    results = metric_results(path, golden["period"])
    actual = json.loads(json.dumps({k: plain(v) for k, v in results.items()}))
    later = AFTER_GOLDEN_METRICS[config]
    assert later <= set(actual) and not later & set(golden["metrics"])
    found = differences(golden["metrics"], {k: v for k, v in actual.items() if k not in later},
                        config)
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
