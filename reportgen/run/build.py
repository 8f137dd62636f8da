"""The report pipeline: pure stages that gather everything, then renderers that write.

``build_report`` resolves the definition into a plan, computes the metrics where the data
lives (``run.compute``: aggregates in DuckDB or the source database), checks the gates,
finds what changed, draws the charts (``run.figures``) and assembles the ReportModel,
writing nothing; ``build_fanout`` does so for a fan-out's whole report and each segment
from one data pass.  ``render_outputs`` then writes each artifact atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from reportgen import __version__, text
from reportgen.data import DataStore
from reportgen.data.gates import GateResult, check_gates
from reportgen.data.rows import Rows, StoreRows
from reportgen.definition import LoadedDefinition, locating
from reportgen.definition.content_specs import OutputSpec
from reportgen.errors import DefinitionError, GateFailure, Problem
from reportgen.period import Period
from reportgen.plan import ReportPlan, resolve
from reportgen.report.actions import ActionSpec, load_actions
from reportgen.report.assemble import assemble_model
from reportgen.report.claims import enforce_claims
from reportgen.report.editorial import with_figures
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.report_model import Artifact, ReportModel
from reportgen.report.model.sections import Figure, Finding
from reportgen.run import reuse
from reportgen.run.compute import aggregate_requests, compute_metrics, history_of, open_store
from reportgen.run.events import stage
from reportgen.run.fanout import SegmentPlan, SegmentStore
from reportgen.run.figures import build_charts


@dataclass(frozen=True)
class PendingCharts:
    """What drawing a report's charts needs, kept so they can be drawn where it renders."""

    plan: ReportPlan
    metrics: Mapping[str, MetricResult]
    period: Period


@dataclass(frozen=True)
class BuildResult:
    model: ReportModel
    gate_results: tuple[GateResult, ...]
    input_hashes: Mapping[str, str]
    #: per source, the fingerprint of the data as it was read (``reportgen.data.fingerprint``)
    data_fingerprints: Mapping[str, str] = field(default_factory=dict)
    #: Charts not drawn yet (a fan-out draws them in its render processes); ``drawn()``.
    charts: PendingCharts | None = None

    def drawn(self, before: MutableMapping[str, Figure] | None = None) -> BuildResult:
        """This result with its charts drawn and placed in the model's sections.

        ``before``: figures an earlier build drew from the same metrics, by ``chart_key``;
        a chart whose key is there is not drawn again, and ``before`` ends holding exactly
        this build's figures."""
        if self.charts is None:
            return self
        pending = self.charts
        with text.locale_scope(pending.plan.definition.locale), stage("charts"):
            figures = build_charts(pending.plan, pending.metrics, pending.period, before)
        model = with_figures(self.model, pending.plan, pending.metrics, figures)
        with stage("claims"):  # the finished model: every number traced to its values
            enforce_claims(model)
        return replace(self, model=model, charts=None)


def build_insights(plan: ReportPlan, metrics: Mapping[str, MetricResult],
                   rows: Rows, period: Period) -> tuple[Finding, ...]:
    from reportgen.insights import build_insights as find

    return tuple(find(plan, metrics, rows, period, history_of(plan, period)))


def read_actions(plan: ReportPlan) -> tuple[ActionSpec, ...] | None:
    """The definition's action register, read and checked with the other inputs (None when
    it names none); a bad row raises DefinitionError before any data is read."""
    loaded = plan.loaded
    spec = loaded.definition.actions
    if spec is None:
        return None
    try:
        return load_actions(loaded.resolve(spec.file), plan)
    except DefinitionError as exc:
        if any(p.location for p in exc.problems):
            raise
        # the register itself cannot be read: say where the definition names it
        raise DefinitionError(str(loaded.path), [
            Problem("actions.file", f"{p.message} ({loaded.resolve(spec.file)})",
                    loaded.location(("actions", "file")))
            for p in exc.problems]) from None


def _finish(plan: ReportPlan, store: DataStore | SegmentStore,
            period: Period, metrics: dict[str, MetricResult], gates: tuple[GateResult, ...], *,
            now: datetime, actions: tuple[ActionSpec, ...] | None,
            kept: list[reuse.Ingredients] | None = None) -> BuildResult:
    """Findings, row counts and the model, its charts left to ``drawn()``; ``kept``
    receives what was computed from the data, for a later run to reuse."""
    with stage("insights"):
        findings = build_insights(plan, metrics, StoreRows(store), period)  # type: ignore[arg-type]
    ingredients = reuse.Ingredients(
        metrics=metrics, findings=findings, gates=gates,
        input_hashes={name: store.fingerprint(name) for name in plan.sources},
        row_counts={name: store.count(name, period) for name in plan.sources},
        quality=tuple(store.quality(name) for name in plan.sources),
        data_fingerprints=store.data_fingerprints())
    if kept is not None:
        kept.append(ingredients)
    return _assembled(plan, period, ingredients, now=now, actions=actions)


def _assembled(plan: ReportPlan, period: Period,
               ingredients: reuse.Ingredients, *, now: datetime,
               actions: tuple[ActionSpec, ...] | None) -> BuildResult:
    """The model assembled from what was computed, its charts left to ``drawn()``."""
    model = assemble_model(plan, period, now=now, metrics=ingredients.metrics, figures={},
                           findings=ingredients.findings, gates=ingredients.gates,
                           input_hashes=ingredients.input_hashes,
                           row_counts=ingredients.row_counts, code_version=__version__,
                           actions=actions, quality=list(ingredients.quality))
    result = BuildResult(model=model, gate_results=ingredients.gates,
                         input_hashes=ingredients.input_hashes,
                         data_fingerprints=ingredients.data_fingerprints,
                         charts=PendingCharts(plan, ingredients.metrics, period))
    return result


@dataclass(frozen=True)
class SegmentBuild:
    """One segment of a fan-out: its plan, its definition, and its report (None if skipped
    or failed, with ``error`` saying why it failed)."""

    plan: SegmentPlan
    loaded: LoadedDefinition
    result: BuildResult | None = None
    error: str | None = None
    #: building it from the data pass: its metrics, findings and model
    seconds: float = 0.0


@dataclass(frozen=True)
class FanOutBuild:
    """A fan-out's whole report (when asked for) and every segment's, from one data pass."""

    whole: BuildResult
    segments: tuple[SegmentBuild, ...]
    #: the data pass: the whole report's metrics and gates, and the statements every
    #: segment is sliced from (run once)
    data_seconds: float


#: Told of each report of a fan-out as soon as it is built (to start rendering it).
OnBuilt = Callable[[LoadedDefinition, BuildResult], None]


def build_fanout(loaded: LoadedDefinition, period: Period, *, now: datetime,
                 domains: Sequence[str] = (), on_built: OnBuilt | None = None) -> FanOutBuild:
    """The whole report and one per segment, reading each source once.

    Gates are checked once, on the whole data (GateFailure holds the whole fan-out); a
    segment that fails to build is recorded with its error and does not stop the others.
    ``domains`` is the recipient allow-list (settings ``allowed_domains``).  ``on_built``
    is told of each report that will be rendered (the whole one when ``include_whole``,
    then each segment that built) the moment it is built.
    """
    with text.locale_scope(loaded.definition.locale), locating(loaded):
        return _build_fanout(loaded, period, now=now, domains=domains, on_built=on_built)


def _build_fanout(loaded: LoadedDefinition, period: Period, *, now: datetime,
                  domains: Sequence[str], on_built: OnBuilt | None) -> FanOutBuild:
    import time

    from reportgen.run import fanout, recipients, segment_content

    definition = loaded.definition
    spec = definition.fan_out
    if spec is None:
        raise ValueError(f"{definition.id} has no fan_out")
    fanout.check_fan_out(definition)
    plan = resolve(loaded)
    actions = read_actions(plan)
    segmented = fanout.segmented_sources(definition)
    extra = {name: list(spec.by) for name in segmented}
    if definition.recipients_from and definition.recipients_from.source:
        extra.setdefault(definition.recipients_from.source, []).append(
            definition.recipients_from.email)
    started = time.perf_counter()
    with open_store(plan, period, extra) as store:
        # every rows request read once, for the whole report and every segment
        shared = fanout.SharedRows(store, segmented, spec.by)
        store.rows_reader = shared.whole
        metrics = compute_metrics(plan, store, period)
        gates = tuple(check_gates(plan, store, metrics, period))
        held = [g.message for g in gates if g.holds]
        if held:
            raise GateFailure(held)
        plans = recipients.plan_segments(loaded, store, period, domains)
        data_seconds = time.perf_counter() - started
        # Charts are drawn where each report renders (in parallel), not here.
        whole = _finish(plan, store, period, metrics, gates, now=now, actions=actions)
        if on_built is not None and spec.include_whole:
            on_built(loaded, whole)  # rendered while the segments' data is read
        # every segment's aggregates, one statement per source and filter; each segment
        # below slices that cached result
        started = time.perf_counter()
        shared_error = None
        try:
            fanout.read_segments(store, [p.segment for p in plans if not p.skipped],
                                 segmented, aggregate_requests(plan))
        except Exception as exc:  # the statement every segment needs: each fails with it
            shared_error = f"{type(exc).__name__}: {exc}"
        data_seconds += time.perf_counter() - started
        builds = []
        label = fanout.whole_label(definition)
        unsplit = segment_content.whole_metrics(definition, segmented)
        compared = fanout.comparison(definition, metrics, label, unsplit) if spec.compare \
            else ""
        # Segment by segment: built, then handed over at once, so the render processes work
        # on one while this process builds the next.
        for p in plans:
            seg_loaded = fanout.segment_definition(loaded, p)
            if p.skipped or shared_error:
                error = None if p.skipped else shared_error
                builds.append(SegmentBuild(p, seg_loaded, error=error))
                continue
            began = time.perf_counter()
            view = fanout.SegmentStore(store, p.segment, segmented, shared)
            try:
                got = compute_metrics(plan, view, period)
                scope = segment_content.segment_scope(definition, p.segment.where, segmented,
                                                      label, compared)
                result = _finish(replace(plan, loaded=seg_loaded, segment=scope), view, period,
                                 got, gates, now=now,
                                 actions=segment_content.segment_actions(actions, p.segment.where))
            except Exception as exc:  # one segment's failure is its own, not the fan-out's
                builds.append(SegmentBuild(p, seg_loaded, error=f"{type(exc).__name__}: {exc}"))
                continue
            builds.append(SegmentBuild(p, seg_loaded, result,
                                       seconds=time.perf_counter() - began))
            if on_built is not None:
                on_built(seg_loaded, result)
    return FanOutBuild(whole, tuple(builds), data_seconds)


def build_report(loaded: LoadedDefinition, period: Period, *, now: datetime,
                 reuse_dir: Path | None = None) -> BuildResult:
    """Everything the renderers need for ``period``; raises GateFailure if a gate holds the run.

    With ``reuse_dir``, what an earlier build computed from the same data and the same
    computing parts of the definition is reused from there (``reportgen.run.reuse``), and
    what this one computes is kept there.
    """
    definition = loaded.definition
    # findings and charts write in the report's locale; a source's errors name its line
    with text.locale_scope(definition.locale), locating(loaded):
        return _build_report(loaded, period, now=now, reuse_dir=reuse_dir)


def _build_report(loaded: LoadedDefinition, period: Period, *, now: datetime,
                  reuse_dir: Path | None = None) -> BuildResult:
    with stage("plan"):
        plan = resolve(loaded)
        actions = read_actions(plan)
    name = None
    if reuse_dir is not None:
        name = reuse.key(loaded, period, current_fingerprints(loaded, period),
                         reuse.actions_hash(loaded))
        found = reuse.load(reuse_dir, name)
        if found is not None:
            with stage("reuse"):  # the same data, computed the same way: only words changed
                result = _assembled(plan, period, found, now=now, actions=actions)
            # charts whose title, theme and params are unchanged are not drawn again
            kept_figures = dict(found.figures)
            result = result.drawn(kept_figures)
            if kept_figures.keys() != found.figures.keys():
                reuse.store(reuse_dir, name, replace(found, figures=kept_figures))
            return result
    kept: list[reuse.Ingredients] = []
    with open_store(plan, period) as store:
        with stage("data"):
            metrics = compute_metrics(plan, store, period)
        with stage("gates"):
            gates = tuple(check_gates(plan, store, metrics, period))
        held = [g.message for g in gates if g.holds]
        if held:
            raise GateFailure(held)
        result = _finish(plan, store, period, metrics, gates, now=now, actions=actions,
                         kept=kept)
    figures: dict[str, Figure] = {}
    result = result.drawn(figures)
    if reuse_dir is not None and name is not None:
        reuse.store(reuse_dir, name, replace(kept[0], figures=figures))
    return result


def current_fingerprints(loaded: LoadedDefinition, period: Period) -> dict[str, str]:
    """Every source's data fingerprint now: from its files, or (a database) by asking it."""
    from reportgen.data.fingerprint import cheap_fingerprints

    definition = loaded.definition
    cheap = cheap_fingerprints(definition.sources, loaded.base_dir)
    if cheap is not None:
        return cheap
    plan = resolve(loaded)
    with open_store(plan, period) as store:
        for name in definition.sources:
            store.source(name)
        return store.data_fingerprints()


def changed_sources(before: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    """The sources whose fingerprint differs (one missing from either side counts)."""
    return sorted(name for name in {*before, *now} if before.get(name) != now.get(name))


def output_path(out_dir: Path, report_id: str, output: OutputSpec, period_key: str) -> Path:
    """Where ``output`` of the report ``report_id`` for the period ``period_key`` is written:
    its filename template filled in, never outside ``out_dir``."""
    from reportgen.errors import OutputPathError
    from reportgen.render.files import file_in

    try:
        name = output.filename.format(report=report_id, period=period_key, ext=output.format)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise OutputPathError(output.filename, f"cannot be filled in ({exc!r})") from None
    return file_in(out_dir, name)


def render_outputs(loaded: LoadedDefinition, result: BuildResult, out_dir: Path) -> list[Artifact]:
    """Render every output of the definition (drawing its charts first if they are still
    pending); each file appears only when complete."""
    from reportgen.render import RENDERERS, options_model

    result = result.drawn()
    artifacts: list[Artifact] = []
    for output in loaded.definition.outputs:
        path = output_path(out_dir, loaded.definition.id, output, result.model.period.key)
        renderer = RENDERERS.instance(output.format)
        # checked when the definition loaded; here only typed for the renderer
        options = options_model(renderer).model_validate(output.options)
        with stage(f"render {output.format}"):
            artifacts.append(renderer(result.model, path, options, loaded))
    return artifacts
