"""Metric calculators and the engine that gives every number its statistical context."""

from __future__ import annotations

from reportgen.metrics.base import CALCULATORS, Calculator, CalculatorParams, calculator

__all__ = ["CALCULATORS", "Calculator", "CalculatorParams", "calculator"]
