"""The report's charts, drawn from its metrics or taken from figures drawn earlier.

A drawn chart is kept by ``chart_key`` (what it depends on besides its metrics' values), so
a regeneration from the same metrics draws again only the charts whose words, looks or
params changed (``reportgen.run.reuse`` keeps the figures with the computation).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence

from pydantic import BaseModel

from reportgen import text
from reportgen.charts import ChartRequest
from reportgen.period import Period
from reportgen.plan import ReportPlan
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.sections import Figure

#: the built-in outputs that use a chart's SVG or no image: a report with only these draws
#: no PNG (slides and a plugin's output may place the PNG)
VECTOR_OUTPUTS = frozenset({"pdf", "html", "xlsx"})


def build_charts(plan: ReportPlan, metrics: Mapping[str, MetricResult], period: Period,
                 before: MutableMapping[str, Figure] | None = None) -> dict[str, Figure]:
    """The report's charts.  With ``before`` (figures drawn earlier from the same metrics,
    by ``chart_key``), a chart drawn with the same title, theme and params is taken from
    there; ``before`` is left holding this build's figures only."""
    from reportgen.report.assemble import theme_of
    from reportgen.report.editorial import with_value_labels

    definition = plan.definition
    theme = theme_of(plan)
    metrics = {metric_id: with_value_labels(result) for metric_id, result in metrics.items()}
    used = {chart_id for section in definition.sections for chart_id in section.charts}
    raster = any(output.format not in VECTOR_OUTPUTS for output in definition.outputs)
    figures: dict[str, Figure] = {}
    keys: dict[str, Figure] = {}
    for chart in plan.charts:
        spec = chart.spec
        if spec.id not in used:
            continue
        request = ChartRequest(
            id=spec.id, title=spec.title or metrics[spec.metric_ids[0]].label,
            metrics=tuple(metrics[m] for m in spec.metric_ids), theme=theme,
            period_label=period.label, raster=raster)
        key = chart_key(request, chart.params, spec.type, spec.metric_ids)
        found = before.get(key) if before is not None else None
        figures[spec.id] = found if found is not None else chart.builder.build(request,
                                                                              chart.params)
        keys[key] = figures[spec.id]
    if before is not None:
        before.clear()
        before.update(keys)
    return figures


def chart_key(request: ChartRequest, params: BaseModel, kind: str,
              metric_ids: Sequence[str]) -> str:
    """What a drawn chart depends on besides its metrics' values: its kind, id, metrics,
    title, theme, period label, params and the locale it is written in (the values are the
    same for every figure kept with one computation, see ``reportgen.run.reuse``)."""
    import hashlib

    parts = [kind, request.id, ",".join(metric_ids), request.title, repr(request.theme),
             request.period_label, str(request.raster),
             params.model_dump_json(),
             str(text.current_locale())]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
