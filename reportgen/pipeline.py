"""The report pipeline: pure stages that gather everything, then renderers that write.

``build_report`` loads the data, checks the gates, computes the metrics, finds what changed,
draws the charts and assembles the ReportModel, writing nothing.  ``render_outputs`` then
writes each artifact atomically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen import __version__, text
from reportgen.charts import ChartRequest, build_chart
from reportgen.definition import LoadedDefinition
from reportgen.definition.models import Definition, OutputSpec
from reportgen.errors import GateFailure
from reportgen.gates import GateResult, check_gates
from reportgen.metrics import CALCULATORS, compute_metric
from reportgen.metrics.engine import PERIOD_COLUMN
from reportgen.model import Artifact, Figure, Finding, MetricResult, ReportModel
from reportgen.period import Period
from reportgen.report_model import assemble_model
from reportgen.sources import LoadedSource, Window, fetch_source


@dataclass(frozen=True)
class BuildResult:
    model: ReportModel
    gate_results: tuple[GateResult, ...]
    input_hashes: Mapping[str, str]


def history_of(definition: Definition, period: Period) -> list[Period]:
    return period.trailing(definition.period.history)


def needed_columns(definition: Definition) -> dict[str, set[str]]:
    """Per source, the columns the definition reads (so nothing else is loaded)."""
    needed: dict[str, set[str]] = {name: set() for name in definition.sources}
    for metric in definition.metrics:
        columns = needed[metric.source]
        params = CALCULATORS.get(metric.calculator).Params.model_validate(metric.params)
        columns.update(params.columns())
        columns.update(metric.filter)
        for entry in metric.by:
            columns.update([entry] if isinstance(entry, str) else entry)
    for gate in definition.gates:
        if gate.column:
            needed[gate.source].add(gate.column)
    for item in definition.interventions:
        needed[definition.metric(item.metric).source].update(item.scope)
    return needed


def assign_periods(times: pd.Series, periods: Sequence[Period]) -> pd.Series:
    """The key of the period each timestamp falls in (missing outside the periods)."""
    bounds = pd.DatetimeIndex([p.start_at for p in periods] + [periods[-1].end_at])
    slot = bounds.searchsorted(pd.DatetimeIndex(times), side="right") - 1
    keys = np.array([p.key for p in periods] + [None], dtype=object)
    inside = (slot >= 0) & (slot < len(periods))
    return pd.Series(np.where(inside, keys[np.clip(slot, 0, len(periods))], None),
                     index=times.index, dtype=object)


def fetch_sources(loaded: LoadedDefinition, period: Period) -> dict[str, LoadedSource]:
    """Every source's rows over the history window, each row tagged with its period."""
    definition = loaded.definition
    history = history_of(definition, period)
    window = Window(history[0].start_at, period.end_at)
    columns = needed_columns(definition)
    out: dict[str, LoadedSource] = {}
    for name, spec in definition.sources.items():
        source = fetch_source(name, spec, sorted(columns[name]), window, loaded.base_dir,
                              definition.period.timezone)
        source.frame[PERIOD_COLUMN] = assign_periods(source.frame[spec.time_column], history)
        out[name] = source
    return out


def compute_metrics(definition: Definition, frames: Mapping[str, pd.DataFrame],
                    period: Period) -> dict[str, MetricResult]:
    history = history_of(definition, period)
    return {spec.id: compute_metric(spec, frames[spec.source], period, history, definition.statistics)
            for spec in definition.metrics}


def build_insights(definition: Definition, metrics: Mapping[str, MetricResult],
                   frames: Mapping[str, pd.DataFrame], period: Period) -> tuple[Finding, ...]:
    from reportgen.insights import build_insights as find

    return tuple(find(definition, metrics, frames, period, history_of(definition, period)))


def build_charts(definition: Definition, metrics: Mapping[str, MetricResult],
                 period: Period) -> dict[str, Figure]:
    from reportgen.report_model import theme_of

    theme = theme_of(definition)
    used = {chart_id for section in definition.sections for chart_id in section.charts}
    figures: dict[str, Figure] = {}
    for spec in definition.charts:
        if spec.id not in used:
            continue
        request = ChartRequest(
            id=spec.id, title=spec.title or metrics[spec.metric_ids[0]].label,
            metrics=tuple(metrics[m] for m in spec.metric_ids), theme=theme,
            period_label=period.label)
        figures[spec.id] = build_chart(spec.type, request, spec.params)
    return figures


def build_report(loaded: LoadedDefinition, period: Period, *, now: datetime) -> BuildResult:
    """Everything the renderers need for ``period``; raises GateFailure if a gate holds the run."""
    definition = loaded.definition
    with text.locale_scope(definition.locale):  # findings and charts write in the report's locale
        return _build_report(loaded, period, now=now)


def _build_report(loaded: LoadedDefinition, period: Period, *, now: datetime) -> BuildResult:
    definition = loaded.definition
    sources = fetch_sources(loaded, period)
    frames = {name: source.frame for name, source in sources.items()}
    metrics = compute_metrics(definition, frames, period)
    gates = tuple(check_gates(definition, frames, metrics, period))
    held = [g.message for g in gates if g.holds]
    if held:
        raise GateFailure(held)
    findings = build_insights(definition, metrics, frames, period)
    figures = build_charts(definition, metrics, period)
    hashes = {name: source.sha256 for name, source in sources.items()}
    rows = {name: int((source.frame[PERIOD_COLUMN] == period.key).sum())
            for name, source in sources.items()}
    model = assemble_model(loaded, period, now=now, metrics=metrics, figures=figures,
                           findings=findings, gates=gates, input_hashes=hashes, row_counts=rows,
                           code_version=__version__)
    return BuildResult(model=model, gate_results=gates, input_hashes=hashes)


def output_path(out_dir: Path, definition: Definition, output: OutputSpec, period_key: str) -> Path:
    name = output.filename.format(report=definition.id, period=period_key, ext=output.format)
    return out_dir / name


def render_outputs(loaded: LoadedDefinition, result: BuildResult, out_dir: Path) -> list[Artifact]:
    """Render every output of the definition; each file appears only when complete."""
    from reportgen.render.pdf import render_pdf
    from reportgen.render.pptx import render_pptx

    artifacts: list[Artifact] = []
    for output in loaded.definition.outputs:
        path = output_path(out_dir, loaded.definition, output, result.model.period.key)
        if output.format == "pdf":
            artifacts.append(render_pdf(
                result.model, path,
                template_dir=loaded.resolve(output.template) if output.template else None,
                stylesheets=[loaded.resolve(s) for s in output.stylesheets]))
        elif output.format == "xlsx":
            from reportgen.render.xlsx import render_xlsx

            artifacts.append(render_xlsx(result.model, path))
        else:
            artifacts.append(render_pptx(
                result.model, path, master=loaded.resolve(output.master) if output.master else None))
    return artifacts
