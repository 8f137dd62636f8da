"""The resolved report plan: a definition checked once, with everything looked up.

``plan.model`` holds the plan's frozen types, low in the layers so every stage can take
them; ``plan.resolve`` builds a plan with the registries (``load_definition``, ``resolve``);
``plan.checks`` and ``plan.delivery`` are the checks that need the registries, and
``plan.schema`` the JSON Schema built from them.  This package's names are the ones the
command line, the run and the web page use.
"""

from __future__ import annotations

from reportgen.definition import LoadedDefinition
from reportgen.plan.model import ChartPlan, CheckedDefinition, ReportPlan, SourcePlan
from reportgen.plan.resolve import load_definition, resolve

__all__ = ["ChartPlan", "CheckedDefinition", "LoadedDefinition", "ReportPlan", "SourcePlan",
           "load_definition", "resolve"]
