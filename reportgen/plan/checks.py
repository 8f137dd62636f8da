"""The checks that need the registries: names of calculators, charts, source kinds,
renderers and delivery channels, their parameters and options (each checked by the schema
its registry entry owns), and the columns those parameters read.

They run over the raw document beside the definition's own checks (so every problem of a
file is reported at once), and are the only place registries are consulted before a run.
The params they validate are kept for the plan (``RegistryCheck``): nothing validates
them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from reportgen.definition.checks import (
    Collector,
    _items,
    check_source_columns,
    metric_breakdowns,
    pydantic_problems,
)
from reportgen.definition.fields import Strict
from reportgen.definition.yaml_loader import PathKey
from reportgen.errors import UnknownNameError
from reportgen.plan.model import Validated
from reportgen.registry import Registry

#: keys of an output that are not its renderer's options
OUTPUT_KEYS = ("format", "filename")
#: keys of a delivery section that are not channels
DELIVERY_KEYS = ("notify_owner_on_hold",)


M = TypeVar("M", bound=BaseModel)


class NoOptions(Strict):
    """An entry that declares no options takes none."""


def lookup(registry: Registry[Any], name: str, path: PathKey, out: Collector, *,
           key: bool = False) -> Any:
    """The registry's entry ``name``, or None with the problem (and a did-you-mean) recorded."""
    try:
        return registry.get(name)
    except UnknownNameError as exc:
        out.add(path, str(exc), key=key)
        return None


def options_of(entry: Any) -> type[BaseModel]:
    """The schema a registry entry owns for its options (none declared: it takes none)."""
    model = getattr(entry, "Options", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else NoOptions


def validated(model: type[M], value: Any, path: PathKey, out: Collector) -> M | None:
    """``value`` validated by ``model``, or None with its problems recorded at ``path``.

    The one place a calculator's or chart's params are validated: the plan keeps what it
    returns.
    """
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        pydantic_problems(exc, out, model, path)
        return None


def check_options(model: type[BaseModel], options: Any, path: PathKey, out: Collector) -> None:
    """Problems of ``options`` under the entry's ``model``, located at ``path``."""
    validated(model, options, path, out)


def plugin_problems(raw: Mapping[str, Any], out: Collector) -> None:
    """Output formats, delivery channels and source options, through their registries."""
    from reportgen.data.connectors import SOURCES
    from reportgen.delivery.channels import CHANNELS
    from reportgen.render import RENDERERS

    found = raw.get("sources")
    sources: dict[Any, Any] = found if isinstance(found, dict) else {}
    for name, spec in sources.items():
        kind = spec.get("kind") if isinstance(spec, dict) else None
        connector = lookup(SOURCES, kind, ("sources", name, "kind"), out) \
            if isinstance(kind, str) else None
        if connector is not None:
            check_options(options_of(connector), spec.get("options") or {},
                          ("sources", name, "options"), out)
    for i, output in _items(raw, "outputs"):
        fmt = output.get("format")
        renderer = lookup(RENDERERS, fmt, ("outputs", i, "format"), out) \
            if isinstance(fmt, str) else None
        if renderer is not None:
            check_options(options_of(renderer),
                          {k: v for k, v in output.items() if k not in OUTPUT_KEYS},
                          ("outputs", i), out)
    delivery = raw.get("delivery")
    for name, options in delivery.items() if isinstance(delivery, dict) else ():
        if name in DELIVERY_KEYS or not isinstance(name, str):
            continue
        channel = lookup(CHANNELS, name, ("delivery", name), out, key=True)
        if channel is not None:
            check_options(options_of(channel), options, ("delivery", name), out)


def check_target(calc: Any, params: Any, metric: Mapping[str, Any]) -> str:
    """What is wrong with a metric's target against its calculator's scale ("" if nothing):
    a target the score cannot take, or one at the bad end of the scale (2.5 on a 1-7
    effort scale where 7 is easy would be met by almost any month)."""
    from reportgen.text.number import plain

    target, scale = metric.get("target"), calc.scale_for(params)
    if scale is None or not isinstance(target, int | float) or isinstance(target, bool):
        return ""
    direction = metric.get("direction") or calc.direction_for(params)
    span = f"{plain(scale.low)}-{plain(scale.high)}"
    if not scale.low <= target <= scale.high:
        return (f"target {plain(target)} is outside the metric's {span} scale; give a value "
                f"between {plain(scale.low)} and {plain(scale.high)}")
    middle = (scale.low + scale.high) / 2
    good_end = scale.high if direction == "higher" else scale.low
    if (target < middle) if direction == "higher" else (target > middle):
        return (f"target {plain(target)} is at the wrong end of the {span} scale: "
                f"{direction} is {scale.good} (the good end is {plain(good_end)}), so "
                f"almost every period would meet it; did you mean "
                f"{plain(scale.low + scale.high - target)}?")
    return ""


@dataclass
class RegistryCheck:
    """The checks that need the registries, over one raw document.

    Unknown calculators, charts, source kinds, formats and channels; invalid params and
    options; undeclared columns.  The params it validates are kept, by metric and chart id
    with the raw params they came from, so resolving the plan does not validate them again.
    """

    metric_params: dict[str, Validated] = field(default_factory=dict)
    chart_params: dict[str, Validated] = field(default_factory=dict)

    def __call__(self, raw: Mapping[str, Any], out: Collector, base_dir: Path) -> None:
        plugin_problems(raw, out)
        self._metrics(raw, out)
        self._charts(raw, out)

    def _metrics(self, raw: Mapping[str, Any], out: Collector) -> None:
        from reportgen.metrics import CALCULATORS

        found = raw.get("sources")
        sources: dict[Any, Any] = found if isinstance(found, dict) else {}
        for i, metric in _items(raw, "metrics"):
            name, source = metric.get("calculator"), metric.get("source")
            if not isinstance(name, str):
                continue
            calc = lookup(CALCULATORS, name, ("metrics", i, "calculator"), out)
            params_raw = metric.get("params") or {}
            if calc is None or not isinstance(params_raw, dict):
                continue
            params = validated(calc.Params, params_raw, ("metrics", i, "params"), out)
            if params is None:
                continue
            if isinstance(metric.get("id"), str):
                self.metric_params[metric["id"]] = Validated(params_raw, params)
            if isinstance(source, str) and source in sources:
                check_source_columns(raw, out, ("metrics", i), source, params.columns(),
                                     f"metric '{metric.get('id')}'")
            target_problem = check_target(calc(), params, metric)
            if target_problem:
                out.add(("metrics", i, "target"), target_problem)

    def _charts(self, raw: Mapping[str, Any], out: Collector) -> None:
        from reportgen.charts import CHARTS
        from reportgen.charts.params import BUILTIN_PARAMS

        metric_by = metric_breakdowns(raw)
        for i, chart in _items(raw, "charts"):
            kind, refs = chart.get("type"), chart.get("metric")
            if not isinstance(kind, str):
                continue
            # Built-in charts are checked without loading their drawing code (matplotlib).
            model: type[BaseModel] | None = BUILTIN_PARAMS.get(kind)
            if model is None:
                builder = lookup(CHARTS, kind, ("charts", i, "type"), out)
                model = builder.Params if builder is not None else None
            params_raw = chart.get("params") or {}
            if model is None or not isinstance(params_raw, dict):
                continue
            params = validated(model, params_raw, ("charts", i, "params"), out)
            if params is None:
                continue
            if isinstance(chart.get("id"), str):
                self.chart_params[chart["id"]] = Validated(params_raw, params)
            wanted = getattr(params, "by", None)
            first = refs if isinstance(refs, str) else refs[0] \
                if isinstance(refs, list) and refs else None
            if isinstance(wanted, str) and isinstance(first, str) and first in metric_by \
                    and wanted not in metric_by[first]:
                out.add(("charts", i, "params", "by"),
                        f"metric '{first}' has no breakdown '{wanted}'; add it to the metric's "
                        f"'by' (it has: {', '.join(metric_by[first]) or 'none'})")
