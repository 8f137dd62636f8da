from __future__ import annotations

import pytest

from reportgen.errors import UnknownNameError
from reportgen.registry import Registry
from reportgen.report.editorial import summary_findings
from reportgen.report.model.sections import Finding


def test_lookup_suggests_the_closest_name_and_lists_the_rest():
    registry: Registry[int] = Registry("widget", "reportgen.test-widgets")
    registry.add("csat", 1)
    registry.add("dsat", 2)
    with pytest.raises(UnknownNameError) as info:
        registry.get("csta")
    assert "did you mean 'csat'?" in str(info.value) and "(available: csat, dsat)" in str(info.value)


def test_a_builtin_that_fails_to_import_keeps_failing_loudly():
    registry: Registry[int] = Registry("widget", "reportgen.test-widgets",
                                       builtins=("reportgen.no_such_module",))
    for _ in range(2):  # the second lookup must not pretend the name is merely unknown
        with pytest.raises(ModuleNotFoundError, match="reportgen.no_such_module"):
            registry.get("anything")


def test_a_class_entry_is_instantiated_once():
    registry: Registry[type] = Registry("widget", "reportgen.test-widgets")

    class Widget:
        pass

    registry.add("w", Widget)
    assert isinstance(registry.instance("w"), Widget)
    assert registry.instance("w") is registry.instance("w")


def _finding(metric: str, severity: float) -> Finding:
    return Finding(kind="significant_change", metric_id=metric, scope="overall",
                   sentence=f"{metric} {severity}", severity=severity)


def test_summary_takes_the_most_severe_findings_one_per_metric():
    ranked = [_finding("csat", 90), _finding("csat", 80), _finding("csat", 70),
              _finding("qa", 60), _finding("frt", 50), _finding("qa", 40), _finding("sla", 30)]
    chosen = summary_findings(ranked, 4)
    assert [f.sentence for f in chosen] == ["csat 90", "qa 60", "frt 50", "sla 30"]
    assert summary_findings(ranked, 0) == ()
