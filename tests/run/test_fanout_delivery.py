"""A fan-out run delivers each segment to its own recipients once, records one run with a
child per segment, and carries on past a failing segment (telling the owner)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from support.fanout_defs import QUEUES, expected_recipients, lead, write_fanout
from support.smtp_server import smtp_settings

from reportgen.cli import main
from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.runner import run_fanout

SEPTEMBER = Period.parse("2026-09", "month", "Europe/Berlin")


def _now() -> datetime:
    return datetime(2026, 10, 2, 7, 0, tzinfo=UTC)


def _run(path: Path, ledger, server, out: Path, **kw):
    return run_fanout(load_definition(path), SEPTEMBER, trigger="manual", ledger=ledger,
                      out_dir=out, send=True, smtp=smtp_settings(server),
                      domains=["example.com"], jobs=kw.pop("jobs", 1), now=_now,
                      sleep=lambda s: None, **kw)


def test_every_segment_reaches_its_lead_once_and_history_shows_one_run_with_children(
        tmp_path, demo_dir, ledger, smtp_server, caplog):
    caplog.set_level(logging.INFO, logger="reportgen.run.runner")
    path = write_fanout(tmp_path / "defs", demo_dir, "scorecard")
    record = _run(path, ledger, smtp_server, tmp_path / "out", jobs=2)
    timing = next(r.getMessage() for r in caplog.records if "data read once" in r.getMessage())
    # the whole report and one per queue, from one read of the data
    assert f"{len(QUEUES)} segment(s) built from it" in timing
    assert f"{len(QUEUES) + 1} report(s) drawn and rendered" in timing
    assert "on 2 process(es)" in timing
    assert all(f"scorecard--{q.lower()} " in timing for q in QUEUES)

    assert record.status == "succeeded", record.error
    got = smtp_server.by_recipient()
    assert set(got) == expected_recipients("scorecard")
    assert all(len(messages) == 1 for messages in got.values())
    subject = got[lead("scorecard", "Billing")][0].message["Subject"]
    assert "Queue scorecard — Billing" in subject

    children = ledger.children_of(record.id)
    assert [c.segment for c in children] == list(QUEUES)
    assert {c.report_id for c in children} == {f"scorecard--{q.lower()}" for q in QUEUES}
    assert all(c.status == "succeeded" and c.parent_id == record.id for c in children)
    assert all(Path(c.artifacts[0].path).exists() for c in children)
    assert [r.id for r in ledger.history("scorecard")] == [record.id]  # children sit under it

    again = _run(path, ledger, smtp_server, tmp_path / "out")  # a second run sends nothing
    assert again.status == "succeeded"
    assert sum(len(m) for m in smtp_server.by_recipient().values()) == len(got)


def test_a_failing_segment_does_not_stop_the_others_and_the_owner_is_told(
        tmp_path, demo_dir, ledger, smtp_server):
    path = write_fanout(tmp_path / "defs", demo_dir, "scorecard")
    smtp_server.handler.refuse[lead("scorecard", "Payments")] = "550 5.1.1 No such user"

    record = _run(path, ledger, smtp_server, tmp_path / "out")

    assert record.status == "partial"
    assert "Payments" in record.error
    statuses = {c.segment: c.status for c in ledger.children_of(record.id)}
    assert statuses == {"Billing": "succeeded", "Payments": "failed", "Returns": "succeeded"}
    got = smtp_server.by_recipient()
    assert lead("scorecard", "Returns") in got and lead("scorecard", "Billing") in got
    assert "owner-scorecard@example.com" in got  # the owner alert


def test_a_mapping_row_outside_the_allow_list_stops_only_its_segment(
        tmp_path, demo_dir, ledger, smtp_server):
    path = write_fanout(tmp_path / "defs", demo_dir, "scorecard",
                        extra_rows="Returns,someone@gmail.com\n")
    record = _run(path, ledger, smtp_server, tmp_path / "out")
    owners = path.parent / "scorecard-owners.csv"
    assert record.status == "partial"
    assert f"{owners}:5:2" in record.error and "someone@gmail.com" not in record.error
    got = smtp_server.by_recipient()
    assert lead("scorecard", "Returns") not in got and lead("scorecard", "Billing") in got


def test_run_json_prints_each_segment_with_its_files_and_headline(
        tmp_path, demo_dir, capsys):
    path = write_fanout(tmp_path / "defs", demo_dir, "scorecard")
    code = main(["run", str(path), "--period", "2026-09", "--out", str(tmp_path / "out"),
                 "--json", "--jobs", "1"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["report_id"] == "scorecard" and result["status"] == "succeeded"
    assert [s["segment"] for s in result["segments"]] == list(QUEUES)
    billing = result["segments"][0]
    assert billing["artifacts"][0]["path"].endswith(".xlsx")
    assert [h["label"] for h in billing["headline"]] == ["First-reply SLA met"]
    assert billing["headline"][0]["value"].endswith("%")
    # Billing's own value, not the whole report's
    assert billing["headline"][0]["value"] != result["headline"][0]["value"]


def test_bad_mapping_through_validate_exits_2_with_the_place(tmp_path, demo_dir, capsys):
    path = write_fanout(tmp_path / "defs", demo_dir, "scorecard",
                        extra_rows="Returns,someone@gmail.com\n")
    settings = tmp_path / "settings.yaml"
    settings.write_text("allowed_domains: [example.com]\nledger_url: sqlite:///runs.sqlite\n",
                        encoding="utf-8")
    code = main(["validate", str(path), "--settings", str(settings)])
    assert code == 2
    err = capsys.readouterr().err
    assert "scorecard-owners.csv:5:2" in err and "Traceback" not in err


def test_the_company_block_compares_the_segment_with_the_whole(tmp_path, demo_dir):
    from reportgen.run.build import build_fanout

    loaded = load_definition(write_fanout(tmp_path / "defs", demo_dir, "scorecard"))
    built = build_fanout(loaded, SEPTEMBER, now=_now())
    whole_sla = built.whole.model.metrics["sla"].value
    billing = next(s for s in built.segments if s.plan.segment.name == "Billing")
    # the whole's figures are one line of the company-wide block, not notes in the
    # queue's own sections (where a company figure would read as the queue's)
    line = billing.result.model.context_comparison
    assert line.startswith("For comparison with this queue's figures, all queues: ")
    assert f"First-reply SLA met {whole_sla * 100:.1f}%" in line
    assert not any("all queues" in note for section in billing.loaded.definition.sections
                   for note in section.notes)
    assert billing.result.model.metrics["sla"].value != whole_sla
