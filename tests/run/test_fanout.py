"""Fan-out: one report per queue from one pass over the data, each equal to the same report
run with the queue as a metric filter."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from support.parity import differences, plain

from reportgen.period import Period

NOW = datetime(2026, 10, 2, 7, 0, tzinfo=UTC)


def _period(loaded) -> Period:
    spec = loaded.definition.period
    return Period.parse("2026-09", spec.grain, spec.timezone)


def _filtered(loaded, queue: str):
    """The whole report with ``queue`` as a filter on every metric of a source that has it."""
    from reportgen.run.fanout import segmented_sources

    d = loaded.definition
    split = segmented_sources(d)
    metrics = [m.model_copy(update={"filter": {**m.filter, "queue": queue}})
               if m.source in split else m for m in d.metrics]
    return replace(loaded, definition=d.model_copy(update={"metrics": metrics, "fan_out": None}))


def _metrics_of(loaded, period):
    from reportgen.plan import resolve
    from reportgen.run.compute import compute_metrics, open_store

    plan = resolve(loaded)
    with open_store(plan, period) as store:
        return compute_metrics(plan, store, period)


@pytest.fixture(scope="module")
def fanned(demo_fanout):
    return demo_fanout


def test_every_queue_gets_a_report_with_its_lead_as_recipient(fanned):
    from reportgen.demo.catalog import QUEUE_NAMES

    loaded, built = fanned
    made = {s.plan.segment.name: s for s in built.segments}
    assert sorted(made) == sorted(QUEUE_NAMES)
    billing = made["Billing"]
    assert billing.result is not None and billing.error is None
    assert billing.loaded.definition.id == "mqr-by-queue--billing"
    assert billing.loaded.definition.title == "Monthly Quality Report — Billing"
    assert billing.loaded.definition.delivery.email.to == ["billing-lead@example.com"]
    assert billing.result.model.title == "Monthly Quality Report — Billing"


@pytest.mark.parametrize("queue", ["Billing", "Trust & Safety", "General"])
def test_each_segment_equals_the_report_filtered_to_it(fanned, queue):
    loaded, built = fanned
    segment = next(s for s in built.segments if s.plan.segment.name == queue)
    assert segment.result is not None
    expected = json.loads(json.dumps({k: plain(v) for k, v in
                                      _metrics_of(_filtered(loaded, queue), _period(loaded)).items()}))
    actual = json.loads(json.dumps({k: plain(v) for k, v in segment.result.model.metrics.items()}))
    found = differences(expected, actual, queue)
    assert not found, f"{len(found)} differences:\n" + "\n".join(found[:40])
    whole = json.loads(json.dumps({k: plain(v) for k, v in built.whole.model.metrics.items()}))
    assert differences(whole, actual), "a segment must differ from the whole report"


def test_one_statement_per_source_and_filter_serves_every_segment(fanned, demo_dir):
    """The segment reports add no statements: one grouped statement answers every segment's
    aggregates, and each rows request is read once for the whole report and every segment
    (sources split by queue and those shown whole alike)."""
    from reportgen.data import result_cache
    from reportgen.data.result_cache import clear_cache
    from reportgen.run.build import build_fanout

    loaded, _ = fanned
    import reportgen.data.store as store_module

    executed: list[str] = []
    original = store_module.DataStore._execute
    reads: list[tuple[Any, ...]] = []
    read_rows = store_module.DataStore.read_rows

    def reading(self, source, columns, where=None, periods=None):
        frame = read_rows(self, source, columns, where, periods)
        reads.append((source, tuple(columns), repr(sorted((where or {}).items())),
                      None if periods is None else tuple(p.key for p in periods), len(frame)))
        return frame

    def counting(self, handle, statement):
        before = len(result_cache._cache)
        out = original(self, handle, statement)
        if len(result_cache._cache) > before or before >= result_cache._CACHE_SIZE:
            executed.append(str(statement.compile(handle.connection)))
        return out

    def narrowed(queues: list[str]):
        only = loaded.definition.fan_out.model_copy(update={"values": queues})
        return replace(loaded, definition=loaded.definition.model_copy(update={"fan_out": only}))

    clear_cache()
    store_module.DataStore._execute = counting
    store_module.DataStore.read_rows = reading
    try:
        four = build_fanout(narrowed(["Billing", "Payments", "Returns", "Trust & Safety"]),
                            _period(loaded), now=NOW, domains=["example.com"])
        with_four, reads_four = len(executed), list(reads)
        executed.clear()
        reads.clear()
        clear_cache()
        build_fanout(narrowed(["Billing"]), _period(loaded), now=NOW, domains=["example.com"])
        with_one, reads_one = len(executed), list(reads)
    finally:
        store_module.DataStore._execute = original
        store_module.DataStore.read_rows = read_rows
    assert len([s for s in four.segments if s.result]) == 4
    assert with_four == with_one, (with_four, with_one)
    # rows: the same reads, each request once, however many segments
    assert reads_four, "the demo MQR has metrics computed from rows"
    assert sorted(map(repr, reads_four)) == sorted(map(repr, reads_one))
    requests = [read[:-1] for read in reads_four]
    assert len(requests) == len(set(requests)), requests
    split = {read[0] for read in reads_four if "queue" in read[1]}
    assert split and split != {read[0] for read in requests}, (
        "the demo has row reads of sources split by queue and of sources shown whole")


def test_each_report_is_handed_over_as_soon_as_it_is_built(fanned, monkeypatch):
    """The render processes start on a report while the next segment is still computed."""
    from reportgen.run import build as pipeline

    loaded, _ = fanned
    queues = ["Billing", "Payments", "Returns"]
    only = loaded.definition.fan_out.model_copy(update={"values": queues})
    narrowed = replace(loaded, definition=loaded.definition.model_copy(update={"fan_out": only}))
    events: list[tuple[str, str]] = []
    compute = pipeline.compute_metrics

    def noting(plan, store, period):  # watches the order of the steps; computes as before
        segment = getattr(store, "segment", None)
        events.append(("compute", segment.name if segment else "whole"))
        return compute(plan, store, period)

    monkeypatch.setattr(pipeline, "compute_metrics", noting)
    def handed(seg_loaded, result):
        events.append(("handed", seg_loaded.definition.id))

    built = pipeline.build_fanout(narrowed, _period(loaded), now=NOW, domains=["example.com"],
                                  on_built=handed)
    assert [s.error for s in built.segments] == [None] * 3
    ids = {q: f"mqr-by-queue--{q.lower()}" for q in queues}
    assert events == [("compute", "whole"), ("handed", "mqr-by-queue"),
                      *(e for q in queues for e in (("compute", q), ("handed", ids[q])))]


def test_small_segments_are_skipped_with_a_reason(fanned):
    from reportgen.run.build import build_fanout

    loaded, _ = fanned
    spec = loaded.definition.fan_out.model_copy(update={"min_rows": 10**9, "values": ["Billing"]})
    narrowed = replace(loaded, definition=loaded.definition.model_copy(update={"fan_out": spec}))
    built = build_fanout(narrowed, _period(loaded), now=NOW, domains=["example.com"])
    (only,) = built.segments
    assert only.result is None
    assert "fewer than fan_out.min_rows" in only.plan.skipped


def test_a_mapping_row_outside_the_allow_list_is_a_problem_of_its_segment_with_its_place(
        fanned, tmp_path):
    from reportgen.run.recipients import recipient_mapping

    loaded, _ = fanned
    mapping = tmp_path / "owners.csv"
    mapping.write_text("queue,lead_email\nBilling,billing-lead@example.com\n"
                       "Payments,pay@gmail.com\nReturns,not-an-address\n", encoding="utf-8")
    spec = loaded.definition.recipients_from.model_copy(update={"file": str(mapping)})
    moved = replace(loaded, definition=loaded.definition.model_copy(
        update={"recipients_from": spec}))
    found = recipient_mapping(moved, ["example.com"])
    assert found.addresses == {"Billing": ("billing-lead@example.com",)}
    assert found.refusal("Billing") is None
    payments, returns = found.refusal("Payments"), found.refusal("Returns")
    assert f"{mapping}:3:2" in payments and "gmail.com" in payments
    assert "example.com" in payments and "pay@gmail.com" not in payments
    assert f"{mapping}:4:2" in returns and "not-an-address" not in returns


def _charts_of_a_queue_report(definition) -> set[str]:
    """The charts a section names, but those broken down by queue (one bar in one queue's)."""
    by_queue = {c.id for c in definition.charts
                if "queue" in str(c.params.get("by", "")).split(",")}
    return {c for spec in definition.sections for c in spec.charts} - by_queue


@pytest.fixture(scope="module")
def queue_pdfs(fanned, demo_fanout_drawn, tmp_path_factory):
    """Every queue report as a PDF: the first two drawn where they render (as a fan-out run
    does), the others from their drawn charts; [QueuePdf], read once."""
    from reportgen.render.pool import render_all
    from reportgen.run.build import render_outputs

    work = [(segment, segment.result if i < 2 else drawn)
            for i, (segment, drawn) in enumerate(demo_fanout_drawn)]
    pdf_only = [(replace(s.loaded, definition=s.loaded.definition.model_copy(update={
        "outputs": [o for o in s.loaded.definition.outputs if o.format == "pdf"]})), result)
        for s, result in work]
    outcomes = render_all(render_outputs, pdf_only, tmp_path_factory.mktemp("queues"), jobs=2)
    return [QueuePdf(s, drawn.model, outcome.get()[0].path)
            for (s, drawn), outcome in zip(demo_fanout_drawn, outcomes, strict=True)]


class QueuePdf:
    """A queue's rendered report: its build, its model, and the PDF as a reader sees it."""

    def __init__(self, segment, model, path):
        from pypdf import PdfReader

        self.segment, self.model, self.path = segment, model, path
        self.queue = segment.plan.segment.name
        reader = PdfReader(path)
        #: each page's text, its whitespace made single spaces
        self.pages = [" ".join(page.extract_text().split()) for page in reader.pages]
        #: the top-level bookmarks: (title, page index)
        self.outline = [(item.title, reader.get_destination_page_number(item))
                        for item in reader.outline if not isinstance(item, list)]
        self.text = " ".join(self.pages)


def test_charts_are_left_to_the_render_processes_and_drawn_there(fanned, demo_fanout_drawn,
                                                                  queue_pdfs):
    loaded, built = fanned
    segments = [s for s in built.segments if s.result is not None][:2]
    for segment in segments:  # the one-pass build draws nothing ...
        assert segment.result.charts is not None
        assert not any(section.figures for section in segment.result.model.sections)
    segment, drawn = demo_fanout_drawn[0]  # ... and drawing places every chart a section names
    assert drawn.charts is None
    assert {f.id for s in drawn.model.sections for f in s.figures} \
        == _charts_of_a_queue_report(loaded.definition)
    for pdf in queue_pdfs[:2]:  # drawn in the render processes
        assert "CSAT, last 13 months" in pdf.text and "Where defects come from" in pdf.text


def test_a_queue_report_names_no_other_queue_outside_its_company_wide_block(fanned, queue_pdfs):
    """Calibration and moderation are not split by queue: they are shown in one block, titled
    as the whole company's; everything else in a queue's report is about that queue."""
    from reportgen.demo.catalog import QUEUE_NAMES

    loaded, _ = fanned
    definition = loaded.definition
    unsplit = {"calibration", "calibration_ratings", "moderation"}
    assert {n for n, s in definition.sources.items() if "queue" not in s.columns} == unsplit
    unsplit_titles = {spec.title for spec in definition.sections
                      if {m.source for m in definition.metrics if m.id in spec.kpis} <= unsplit}
    assert unsplit_titles == {"Calibration", "Trust & Safety decision quality"}
    # the definition's own description names a section's topic, not a queue
    description = " ".join(definition.description.split())
    # the company report's own CSAT tile, which the queue reports compare with
    whole_csat = next(f"CSAT {k.value_text}" for k in fanned[1].whole.model.summary_kpis
                      if k.metric.metric_id == "csat")
    assert len(queue_pdfs) == len(QUEUE_NAMES)
    for pdf in queue_pdfs:
        queue, pages, outline = pdf.queue, pdf.pages, pdf.outline
        titles = [t for t, _ in outline]
        block = titles.index("Company-wide context (all queues)")
        first, last = outline[block][1], outline[block + 1][1]  # the block's pages
        assert titles[block + 1] == "Methodology and provenance"
        inside = " ".join(pages[first:last])
        for title in unsplit_titles:  # the company-wide sections are inside, and only there
            assert title in inside, (queue, title)
            assert not any(title in t for t in titles[:block]), (queue, title)
        outside = " ".join(pages[:first] + pages[last:]).replace(description, "")
        others = [q for q in QUEUE_NAMES if q != queue and q in outside]
        assert others == [], f"{queue}: {others} outside the company-wide block"
        # the calibration story is told in the block (its test is noted in the appendix)
        assert "Auditor AU07" in inside and "Auditor AU07" not in " ".join(pages[:first])
        # the whole's figures to compare the queue's with are said in the block, and only
        # there: outside it "all queues" is only the block's name (contents, bookmarks)
        assert outside.replace(titles[block], "").count("all queues") == 0, queue
        assert f"For comparison with this queue's figures, all queues: {whole_csat}" in inside
        # and the summary shows no company-wide tile or finding
        assert "Decision accuracy" not in pages[1], queue
        assert not any(k.metric.metric_id in {"calibration", "decision_accuracy"}
                       for k in pdf.model.summary_kpis)


def test_a_queue_report_draws_nothing_by_queue(fanned, queue_pdfs):
    """One queue's report would draw one bar, one heatmap row, one table row."""
    loaded, built = fanned
    definition = loaded.definition
    by_queue = [c.title for c in definition.charts
                if "queue" in str(c.params.get("by", "")).split(",")]
    by_queue += [t.title or f"{definition.metric(t.metric).label} by queue"
                 for spec in definition.sections for t in spec.tables if "queue" in t.by_key]
    assert set(by_queue) == {"CSAT by queue", "Defect rate by queue and category",
                             "QA score by queue"}
    whole_tables = {t.title for s in built.whole.model.sections for t in s.tables}
    assert {"CSAT by queue", "QA score by queue"} <= whole_tables  # the company report has them
    for pdf in queue_pdfs:
        shown = [t for t in by_queue if t in pdf.text]
        assert shown == [], f"{pdf.queue}: {shown}"
        assert not any(c.label == "Queue" for s in pdf.model.sections for t in s.tables
                       for c in t.columns)


def test_the_onboarding_intervention_is_only_in_the_onboarding_report(fanned, queue_pdfs):
    loaded, _ = fanned
    (intervention,) = loaded.definition.interventions
    assert intervention.scope == {"queue": "Onboarding"}
    for pdf in queue_pdfs:
        mine = pdf.queue == "Onboarding"
        assert (intervention.name in pdf.text) is mine, pdf.queue
        if not mine:
            assert "more history" not in pdf.text


def test_a_queue_report_summary_fits_its_page(queue_pdfs):
    """The executive summary is page 2 alone: the first section starts on page 3, not after
    a page the summary's last findings spilled onto."""
    for pdf in queue_pdfs:
        pages = dict(pdf.outline)
        first_section = next(s.title for s in pdf.model.sections if not s.whole)
        assert pages["Executive summary"] == 1, pdf.queue
        assert pages[first_section] == 2, pdf.queue
        findings = pdf.model.findings
        assert findings and all(f.sentence[:40] in pdf.pages[1] for f in findings), pdf.queue


def test_a_segment_preview_has_its_charts(fanned):
    from reportgen.web.segments import segment_model

    loaded, _ = fanned
    model = segment_model(loaded, _period(loaded), "Billing", now=NOW, domains=["example.com"])
    named = _charts_of_a_queue_report(loaded.definition)
    assert {f.id for s in model.sections for f in s.figures} == named


def test_a_report_without_slides_draws_no_pngs(demo_fanout_drawn) -> None:
    """The per-queue report makes a PDF only: its charts are drawn as SVG alone (slides and
    a plugin's output are the only readers of a chart's PNG)."""
    from reportgen.run.figures import VECTOR_OUTPUTS

    segment, result = demo_fanout_drawn[0]
    assert {o.format for o in segment.loaded.definition.outputs} <= VECTOR_OUTPUTS
    figures = [figure for section in result.model.sections for figure in section.figures]
    assert figures and all(fig.png == b"" and "<svg" in fig.svg for fig in figures)
