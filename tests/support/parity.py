"""The parity golden of the demo metrics: the reports it covers, how their results are computed
and written as JSON, and how two such results are compared.

``scripts/record_parity_golden.py`` records the golden with these; ``tests/data/test_parity.py``
and the fan-out tests compare with them.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date
from pathlib import Path
from typing import Any

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
    from reportgen.run.compute import compute_metrics, open_store

    plan = resolve(load_definition(config))
    spec = plan.definition.period
    period = Period.parse(period_text, spec.grain, spec.timezone)
    with open_store(plan, period) as store:
        return compute_metrics(plan, store, period)


#: metrics added to the demo reports after the golden was recorded, per report: they never
#: had a pandas path to agree with, so the golden holds none of them; tests/demo checks what
#: the report says of each.  Any other metric the golden lacks is a difference.
AFTER_GOLDEN_METRICS: dict[str, frozenset[str]] = {
    "monthly_quality_report.yaml": frozenset({
        "audit_sample", "autoqa", "rubric_validity", "moderation_precision", "csat_2026",
        "refund_contacts"}),
    "qbr.yaml": frozenset(),
}
#: not compared: the methodology's wording; and what the plan, not the data, settles for how
#: a result reads (a score's scale, the minimum n, the period's grain, the noun of its n)
TEXT_ONLY = {"formula", "scale", "min_n", "grain", "n_noun"}
#: fields added to a metric's result after the golden was recorded, with what they must
#: hold on the demo data: no demo value is off its scale or negative, so nothing is left out
AFTER_GOLDEN: dict[str, Any] = {"left_out": []}
#: a breakdown row's history (the MQR scorecard's sparklines) came after the golden and has
#: no pandas path here: tests/report/test_scorecard.py checks it against the raw files.  Here
#: a row has none, or one value per period of the MQR's 13-month history.
ROW_HISTORY_LENGTHS = (0, 13)


def _scoped_differences(auditors: list[dict[str, Any]], scoped: Any, where: str) -> list[str]:
    """A calibration's per-auditor values for actions (``details.scoped``, added after the
    golden): each auditor's value and n are the golden's own per-auditor deviation."""
    recorded = {a["auditor"]: a for a in auditors if a["n"]}
    now = {name: {k: v for k, v in entry.items() if k in ("value", "n")}
           for name, entry in (scoped.get("auditor") or {}).items()}
    return differences({name: {"value": a["mean_abs_deviation"], "n": a["n"]}
                        for name, a in recorded.items()}, now, f"{where}.auditor")


def differences(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Every place ``actual`` differs from ``expected`` (numbers: relative 1e-9)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted((set(expected) | set(actual)) - TEXT_ONLY):
            if key not in expected and key in AFTER_GOLDEN and key in actual:
                out += differences(AFTER_GOLDEN[key], actual[key], f"{where}.{key}")
                continue
            if key == "scoped" and key not in expected and "auditors" in expected:
                out += _scoped_differences(expected["auditors"], actual[key], f"{where}.{key}")
                continue
            if key == "history" and key not in expected and "key" in actual \
                    and isinstance(actual[key], list):  # a breakdown row's
                if len(actual[key]) not in ROW_HISTORY_LENGTHS:
                    out.append(f"{where}.history: {len(actual[key])} values")
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
