"""A segment's definition: narrowed to its segment, the whole organisation's parts moved to
the end (no data is read: these are the definition's own rules)."""

from __future__ import annotations

import datetime as dt

from reportgen.definition.document import Definition
from reportgen.definition.scorecard_specs import ScorecardSpec
from reportgen.plan.model import SegmentScope
from reportgen.report.actions import ActionSpec
from reportgen.report.model.sections import Finding
from reportgen.report.segment_context import about_segment, context_title
from reportgen.run.fanout import segmented_sources
from reportgen.run.segment_content import (
    WHOLE_PART,
    narrowed,
    segment_actions,
    segment_scope,
    whole_metrics,
)

BILLING = {"queue": "Billing"}


def _definition() -> Definition:
    return Definition.model_validate({
        "id": "by-queue", "title": "Quality", "organisation": "Acme",
        "period": {"grain": "month", "timezone": "Europe/Berlin"},
        "sources": {
            "tickets": {"kind": "csv", "path": "tickets.csv", "time_column": "created_at",
                        "columns": {"queue": "str", "channel": "str", "sla_met": "int"}},
            "calibration": {"kind": "csv", "path": "cal.csv", "time_column": "session_date",
                            "columns": {"session_id": "str", "ticket_id": "str",
                                        "review_score": "float"}}},
        "metrics": [
            {"id": "sla", "label": "SLA", "calculator": "sla_attainment", "source": "tickets",
             "params": {"column": "sla_met"}, "by": ["queue", "channel"]},
            {"id": "calibration", "label": "Calibration", "calculator": "calibration_deviation",
             "source": "calibration", "params": {"item_columns": ["ticket_id"]}}],
        "charts": [
            {"id": "sla_by_queue", "type": "bar", "metric": "sla", "params": {"by": "queue"}},
            {"id": "sla_by_channel", "type": "bar", "metric": "sla", "params": {"by": "channel"}},
            {"id": "cal_chart", "type": "calibration", "metric": "calibration"}],
        "sections": [
            {"id": "ops", "title": "Operations", "intro": "How fast we answer.",
             "kpis": ["sla", "calibration"], "charts": ["sla_by_queue", "sla_by_channel",
                                                       "cal_chart"],
             "tables": [{"metric": "sla", "by": "queue"}, {"metric": "sla", "by": "channel"}],
             "notes": ["A note about operations."]},
            {"id": "cal", "title": "Calibration", "kpis": ["calibration"]}],
        "interventions": [
            {"name": "Two queues' coaching", "date": "2026-06-01", "metric": "sla",
             "scope": {"queue": ["Billing", "Payments"]},
             "control": {"column": "queue", "values": ["Returns"]}},
            {"name": "Returns coaching", "date": "2026-06-01", "metric": "sla",
             "scope": {"queue": "Returns"}},
            {"name": "Everyone's new macro", "date": "2026-06-01", "metric": "sla"}],
        "fan_out": {"by": "queue"},
    })


def test_a_segment_shows_its_own_part_first_and_the_whole_organisations_after():
    definition = _definition()
    segmented = segmented_sources(definition)
    assert segmented == {"tickets"}
    assert whole_metrics(definition, segmented) == {"calibration"}
    mine = narrowed(definition, BILLING, segmented)
    ops, ops_whole, cal = mine.sections
    assert (ops.id, ops.kpis, ops.charts) == ("ops", ["sla"], ["sla_by_channel"])
    assert [t.by_key for t in ops.tables] == ["channel"]  # the table by queue is dropped
    assert ops.intro == "How fast we answer." and ops.notes == ["A note about operations."]
    assert ops_whole.id == WHOLE_PART.format(id="ops")
    assert (ops_whole.title, ops_whole.kpis, ops_whole.charts, ops_whole.tables) == (
        "Operations", ["calibration"], ["cal_chart"], [])
    assert (ops_whole.intro, ops_whole.notes) == ("", [])
    assert (cal.id, cal.kpis) == ("cal", ["calibration"])
    assert [s.id for s in definition.sections] == ["ops", "cal"]  # the whole's is unchanged


def test_a_scorecard_by_the_fan_out_column_is_left_out_of_a_segment_report():
    by_queue = _definition().model_copy(update={"scorecard": ScorecardSpec(by="queue",
                                                                           metrics=["sla"])})
    segmented = segmented_sources(by_queue)
    assert narrowed(by_queue, BILLING, segmented).scorecard is None
    by_channel = _definition().model_copy(update={"scorecard": ScorecardSpec(
        by="channel", metrics=["sla"])})
    kept = narrowed(by_channel, BILLING, segmented).scorecard
    assert kept is not None and kept.by == "channel"


def test_interventions_of_other_segments_are_dropped_and_shared_ones_narrowed():
    definition = _definition()
    mine = narrowed(definition, BILLING, segmented_sources(definition))
    shared, everyone = mine.interventions
    assert shared.name == "Two queues' coaching" and shared.scope == {"queue": "Billing"}
    assert shared.control is None  # the control queue's rows are not in Billing's report
    assert everyone.name == "Everyone's new macro" and everyone.scope == {}
    returns = narrowed(definition, {"queue": "Returns"}, segmented_sources(definition))
    assert [i.name for i in returns.interventions] == ["Returns coaching",
                                                       "Everyone's new macro"]


def test_actions_of_other_segments_are_dropped():
    def action(id_: str, scope: dict[str, str]) -> ActionSpec:
        return ActionSpec(id=id_, finding="SLA fell", metric="sla", scope=scope,
                          action="Hire", owner="Lead", started=dt.date(2026, 8, 1),
                          due=dt.date(2026, 12, 1), status="open", target=0.85)

    actions = (action("A1", {"queue": "Billing"}), action("A2", {"queue": "Returns"}),
               action("A3", {}), action("A4", {"channel": "Email"}))
    assert [a.id for a in segment_actions(actions, BILLING) or ()] == ["A1", "A3", "A4"]
    assert segment_actions(None, BILLING) is None


def test_a_segment_report_tells_no_finding_of_another_segment_nor_its_own_again():
    scope = segment_scope(_definition(), BILLING, {"tickets"}, "all queues")
    assert scope.whole_sources == {"calibration"}
    assert context_title(scope) == "Company-wide context (all queues)"
    assert context_title(None) == ""

    def finding(kind: str, where: str) -> Finding:
        return Finding(kind=kind, metric_id="sla", scope=where, sentence="...",
                       severity=1.0)

    told = {(f.kind, f.scope): about_segment(f, scope) for f in (
        finding("significant_change", "overall"),
        finding("segment_change", "queue = Billing"),
        finding("segment_change", "queue = Payments"),
        finding("segment_change", "channel = Email"),
        finding("segment_change", "queue = Billing, channel = Email"),
        finding("intervention", "queue = Billing"),
        finding("intervention", "queue = Returns"),
        finding("top_causes", "by queue,category"))}
    assert told == {
        ("significant_change", "overall"): True,
        ("segment_change", "queue = Billing"): False,  # the report's own figure, again
        ("segment_change", "queue = Payments"): False,
        ("segment_change", "channel = Email"): True,
        ("segment_change", "queue = Billing, channel = Email"): True,
        ("intervention", "queue = Billing"): True,
        ("intervention", "queue = Returns"): False,
        ("top_causes", "by queue,category"): True}
    assert about_segment(finding("segment_change", "queue = Payments"), None)  # a whole report


def test_the_segment_scope_says_which_values_are_its_own():
    scope = SegmentScope(("site", "queue"), ("Berlin", "Billing"), "all segments")
    assert scope.about("queue", "Billing") and scope.about("channel", "Email")
    assert not scope.about("site", "Lisbon")
