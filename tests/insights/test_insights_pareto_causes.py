"""A causes pareto counts bad outcomes, never satisfied responses."""

from __future__ import annotations

import dataclasses

from support.factories import sample_metric

from reportgen.insights.pareto import bad_outcomes, pareto
from reportgen.report.model.metric_results import BreakdownRow


def rows() -> list[BreakdownRow]:
    # CSAT by contact reason: satisfied / all responses
    return [BreakdownRow(key=(reason,), value=good / total, n=total, numerator=good,
                         denominator=total)
            for reason, good, total in [("Billing", 180, 200), ("Refund", 20, 60),
                                        ("Login", 40, 70), ("Shipping", 33, 40)]]


def test_csat_causes_are_the_unsatisfied_responses() -> None:
    csat = sample_metric()  # direction: higher is better
    counted = {r.label: bad_outcomes(csat, r) for r in rows()}
    assert counted == {"Billing": 20, "Refund": 40, "Login": 30, "Shipping": 7}
    top, total = pareto(rows(), 0.8, lambda r: bad_outcomes(csat, r))
    assert total == 97
    # Refund and Login hold the most unsatisfied answers; Billing, with the most satisfied
    # ones, would lead a pareto of numerators.
    assert [r.label for r in top] == ["Refund", "Login", "Billing"]
    assert pareto(rows(), 0.8)[0][0].label == "Billing"


def test_defect_causes_count_the_numerator() -> None:
    defects = dataclasses.replace(sample_metric(), direction="lower")
    assert [bad_outcomes(defects, r) for r in rows()] == [180, 20, 40, 33]
