"""Metric calculators and the engine that gives every number its statistical context."""

from __future__ import annotations

from typing import Any

from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, calculator

__all__ = ["CALCULATORS", "Calculator", "CalculatorParams", "calculator", "compute_metric"]


def __getattr__(name: str) -> Any:
    # The engine needs the data layer; looking a calculator up must not load it.
    if name == "compute_metric":
        from reportgen.metrics.engine import compute_metric

        return compute_metric
    raise AttributeError(name)
