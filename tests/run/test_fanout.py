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


def test_charts_are_left_to_the_render_processes_and_drawn_there(fanned, tmp_path):
    from pypdf import PdfReader

    from reportgen.render.pool import render_all
    from reportgen.run.build import render_outputs

    loaded, built = fanned
    segments = [s for s in built.segments if s.result is not None][:2]
    named = {c for spec in loaded.definition.sections for c in spec.charts}
    for segment in segments:  # the one-pass build draws nothing ...
        assert segment.result.charts is not None
        assert not any(section.figures for section in segment.result.model.sections)
    drawn = segments[0].result.drawn()  # ... and drawing places every chart a section names
    assert drawn.charts is None
    assert {f.id for s in drawn.model.sections for f in s.figures} == named

    pdf_only = [(replace(s.loaded, definition=s.loaded.definition.model_copy(update={
        "outputs": [o for o in s.loaded.definition.outputs if o.format == "pdf"]})), s.result)
        for s in segments]
    outcomes = render_all(render_outputs, pdf_only, tmp_path, jobs=2)
    for outcome in outcomes:
        text = " ".join(p.extract_text() for p in PdfReader(outcome.get()[0].path).pages)
        assert "CSAT, last 13 months" in text and "Where defects come from" in text


def test_a_segment_preview_has_its_charts(fanned):
    from reportgen.web.segments import segment_model

    loaded, _ = fanned
    model = segment_model(loaded, _period(loaded), "Billing", now=NOW, domains=["example.com"])
    named = {c for spec in loaded.definition.sections for c in spec.charts}
    assert {f.id for s in model.sections for f in s.figures} == named
