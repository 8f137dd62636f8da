"""Metric calculators and the engine that gives every number its statistical context."""

from __future__ import annotations

from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, calculator
from reportgen.metrics.engine import compute_metric

__all__ = ["CALCULATORS", "Calculator", "CalculatorParams", "calculator", "compute_metric"]
