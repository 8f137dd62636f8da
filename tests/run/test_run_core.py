"""The run core as the command line uses it: events, reproducible numbers, restatements.

Real pipeline, a copy of the demo database (the tests change its rows), a SQLite ledger and
a real SMTP server on loopback.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from io import BytesIO
from pathlib import Path

import yaml
from pypdf import PdfReader

from reportgen.cli import main

RECIPIENTS = ["director@example.com", "head-of-quality@example.com"]


def _report(demo_dir: Path, folder: Path) -> tuple[Path, Path]:
    """A small CSAT report over a copy of the demo database (returned second)."""
    database = folder / "responses.sqlite"
    shutil.copyfile(demo_dir / "reportgen_demo.sqlite", database)
    data = {
        "id": "csat-core", "title": "CSAT Report", "organisation": "Test Org",
        "owner": "owner@example.com",
        "period": {"grain": "month", "timezone": "Europe/Berlin", "history": 4},
        "sources": {"responses": {
            "kind": "sql", "url": f"sqlite:///{database}", "table": "csat_responses",
            "time_column": "responded_at", "columns": {"rating": "int", "queue": "str"}}},
        "metrics": [{"id": "csat", "label": "CSAT", "calculator": "csat",
                     "source": "responses", "params": {"column": "rating"}, "by": ["queue"],
                     "target": 0.85}],
        "sections": [{"id": "voc", "title": "Voice of the customer", "kpis": ["csat"]}],
        "delivery": {"email": {"to": RECIPIENTS, "subject": "{title} — {period}"}},
    }
    path = folder / "csat-core.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path, database


def _settings(folder: Path, server) -> Path:  # type: ignore[no-untyped-def]
    path = folder / "settings.yaml"
    path.write_text(yaml.safe_dump({
        "ledger_url": f"sqlite:///{folder / 'runs.sqlite'}", "out_dir": str(folder / "out"),
        "smtp": {"host": server.host, "port": server.port, "security": "none",
                 "from_address": "reports@example.com", "timeout": 5, "attempts": 1,
                 "local_hostname": "reportgen.test"}}), encoding="utf-8")
    return path


def _run(capsys, *args: str) -> dict:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    assert main(["run", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _pdf_text(run: dict) -> str:
    (pdf,) = [a for a in run["artifacts"] if a["format"] == "pdf"]
    return " ".join(page.extract_text() for page in PdfReader(BytesIO(
        Path(pdf["path"]).read_bytes())).pages)


def _csat(run: dict) -> dict:
    return next(m for m in run["metrics"] if m["id"] == "csat")


def test_run_json_tells_the_events_and_the_metrics_with_their_context(
        demo_dir, tmp_path, capsys):
    definition, _ = _report(demo_dir, tmp_path)
    run = _run(capsys, str(definition), "--period", "2026-09", "--out", str(tmp_path / "out"))
    kinds = [e["kind"] for e in run["events"]]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    finished = {e["stage"]: e["seconds"] for e in run["events"] if e["kind"] == "stage_finished"}
    assert {"plan", "data", "gates", "insights", "charts", "render pdf"} <= set(finished)
    assert all(seconds >= 0 for seconds in finished.values())
    assert run["events"][-1]["status"] == "succeeded" == run["status"]
    csat = _csat(run)
    assert 0 < csat["value"] < 1 and csat["n"] > 100 and csat["target"] == 0.85
    low, high = csat["interval"]
    assert low < csat["value"] < high


def test_a_rerun_on_unchanged_data_gives_byte_identical_metric_values(
        demo_dir, tmp_path, capsys):
    definition, _ = _report(demo_dir, tmp_path)
    args = (str(definition), "--period", "2026-09", "--out", str(tmp_path / "out"))
    first, second = _run(capsys, *args), _run(capsys, *args)
    assert first["id"] != second["id"]
    assert json.dumps(first["metrics"]) == json.dumps(second["metrics"])
    assert first["data_fingerprints"] == second["data_fingerprints"]
    assert first["input_hashes"] == second["input_hashes"]


def test_a_restatement_is_told_when_a_sent_number_changes_and_not_otherwise(
        demo_dir, tmp_path, smtp_server, capsys):
    definition, database = _report(demo_dir, tmp_path)
    settings = _settings(tmp_path, smtp_server)
    args = (str(definition), "--period", "2026-09", "--settings", str(settings),
            "--out", str(tmp_path / "out"))
    sent = _run(capsys, *args, "--send")
    assert len(smtp_server.wait_for(2)) == 2
    was = _csat(sent)

    same = _run(capsys, *args)  # the data as it was sent: nothing to restate
    assert "Restated" not in _pdf_text(same)
    assert not same["restatements"]

    with sqlite3.connect(database) as conn:  # a late correction: Billing's ratings withdrawn
        gone = conn.execute("DELETE FROM csat_responses WHERE queue = 'Billing' AND "
                            "responded_at >= '2026-09-01' AND responded_at < '2026-10-01'"
                            ).rowcount
    assert gone > 20
    restated = _run(capsys, *args, "--send")
    now = _csat(restated)
    assert now["n"] < was["n"] and now["value"] != was["value"]
    (note, rows) = restated["restatements"]
    assert note.startswith("Restated: September 2026 CSAT was ")
    assert f"{was['value'] * 100:.1f}%" in note and f"{now['value'] * 100:.1f}%" in note
    assert f"The responses source lost {was['n'] - now['n']} rows" in rows
    pdf = " ".join(_pdf_text(restated).split())
    assert note in pdf
    # nobody is sent the period twice by a run; the corrected report goes out on purpose
    assert len(smtp_server.received) == 2
    capsys.readouterr()
    assert main(["resend", str(restated["id"]), "--to", "director@example.com",
                 "--settings", str(settings)]) == 0
    message = smtp_server.wait_for(3)[2].message
    assert note in message.get_body(("plain",)).get_content()


def test_the_provenance_hash_of_a_csv_source_is_the_same_on_a_rerun(demo_dir, tmp_path, capsys):
    """DuckDB aggregates in parallel, so a grouped statement's rows come in no set order;
    the content hash a report prints must not depend on it."""
    path = tmp_path / "tickets.yaml"
    path.write_text(yaml.safe_dump({
        "id": "tickets", "title": "Tickets", "period": {"grain": "month", "history": 13},
        "sources": {"tickets": {"kind": "csv", "path": str(demo_dir / "tickets.csv"),
                                "time_column": "created_at",
                                "columns": {"queue": "str", "channel": "str", "agent_id": "str",
                                            "contact_reason": "str", "sla_met": "int"}}},
        "metrics": [{"id": "sla", "label": "SLA met", "calculator": "sla_attainment",
                     "source": "tickets", "params": {"column": "sla_met"},
                     "by": ["agent_id", ["queue", "channel", "contact_reason"]]}],
        "sections": [{"id": "ops", "title": "Operations", "kpis": ["sla"]}],
        "outputs": [{"format": "xlsx"}]}), encoding="utf-8")
    hashes = [_run(capsys, str(path), "--period", "2026-09", "--out",
                   str(tmp_path / f"out{i}"))["input_hashes"] for i in range(3)]
    assert hashes[0] == hashes[1] == hashes[2]


def test_a_change_of_words_only_renders_from_what_was_computed(demo_dir, tmp_path, capsys):
    definition, database = _report(demo_dir, tmp_path)
    args = (str(definition), "--period", "2026-09", "--out", str(tmp_path / "out"))
    first = _run(capsys, *args)
    assert "data" in _stages(first) and "reuse" not in _stages(first)

    data = yaml.safe_load(definition.read_text())
    data["title"] = "Customer Satisfaction, Restyled"
    data["sections"][0]["title"] = "What customers told us"
    definition.write_text(yaml.safe_dump(data), encoding="utf-8")
    worded = _run(capsys, *args)
    assert "reuse" in _stages(worded) and "data" not in _stages(worded)
    assert json.dumps(worded["metrics"]) == json.dumps(first["metrics"])
    text = _pdf_text(worded)
    assert "Customer Satisfaction, Restyled" in text and "What customers told us" in text

    data["metrics"][0]["target"] = 0.9  # what is computed changed: the data is read again
    definition.write_text(yaml.safe_dump(data), encoding="utf-8")
    retargeted = _run(capsys, *args)
    assert "data" in _stages(retargeted) and _csat(retargeted)["target"] == 0.9

    with sqlite3.connect(database) as conn:  # and so when one rating is corrected in place
        conn.execute("UPDATE csat_responses SET rating = 6 - rating WHERE rowid IN (SELECT "
                     "rowid FROM csat_responses WHERE responded_at >= '2026-09-05' LIMIT 1)")
    corrected = _run(capsys, *args)
    assert "data" in _stages(corrected)
    assert corrected["data_fingerprints"] != retargeted["data_fingerprints"]


def _stages(run: dict) -> set[str]:
    return {e["stage"] for e in run["events"] if e["kind"] == "stage_finished"}


def test_a_regeneration_draws_only_the_charts_whose_words_or_looks_changed(
        demo_dir, tmp_path, capsys, monkeypatch):
    from reportgen.charts import CHARTS

    drawn: list[str] = []
    for _name, builder in list(CHARTS.items()):
        cls = builder if isinstance(builder, type) else type(builder)
        original = cls.build

        def counting(self, request, params, _original=original):  # type: ignore[no-untyped-def]
            drawn.append(request.id)
            return _original(self, request, params)

        monkeypatch.setattr(cls, "build", counting)

    definition, _ = _report(demo_dir, tmp_path)
    data = yaml.safe_load(definition.read_text())
    data["charts"] = [{"id": "trend", "type": "trend", "metric": "csat"},
                      {"id": "queues", "type": "bar", "metric": "csat",
                       "params": {"by": "queue"}}]
    data["sections"][0]["charts"] = ["trend", "queues"]
    definition.write_text(yaml.safe_dump(data), encoding="utf-8")
    args = (str(definition), "--period", "2026-09", "--out", str(tmp_path / "out"))
    first = _run(capsys, *args)
    assert sorted(drawn) == ["queues", "trend"] and "data" in _stages(first)

    drawn.clear()
    data["title"] = "CSAT, Restyled"  # words outside the charts: nothing is drawn again
    definition.write_text(yaml.safe_dump(data), encoding="utf-8")
    worded = _run(capsys, *args)
    assert "reuse" in _stages(worded) and drawn == []
    assert "CSAT, Restyled" in _pdf_text(worded)

    data["charts"][1]["title"] = "CSAT by queue, this month"  # one chart's own words
    definition.write_text(yaml.safe_dump(data), encoding="utf-8")
    retitled = _run(capsys, *args)
    assert "reuse" in _stages(retitled) and drawn == ["queues"]
    assert "CSAT by queue, this month" in _pdf_text(retitled)

    drawn.clear()
    data["theme"] = {"primary": "#7a1f5c"}  # the looks of every chart
    definition.write_text(yaml.safe_dump(data), encoding="utf-8")
    _run(capsys, *args)
    assert sorted(drawn) == ["queues", "trend"]


def test_a_fan_out_restates_only_the_segment_whose_sent_number_changed(
        demo_dir, tmp_path, smtp_server, capsys):
    import pandas as pd
    from support.fanout_defs import write_fanout

    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(demo_dir / "tickets.csv", data / "tickets.csv")
    definition = write_fanout(tmp_path / "configs", data, "queues")
    settings = _settings(tmp_path, smtp_server)
    yaml_settings = yaml.safe_load(settings.read_text())
    settings.write_text(yaml.safe_dump({**yaml_settings, "allowed_domains": ["example.com"]}),
                        encoding="utf-8")
    args = (str(definition), "--period", "2026-09", "--settings", str(settings),
            "--out", str(tmp_path / "out"))
    sent = _run(capsys, *args, "--send")
    assert len(smtp_server.wait_for(4)) == 4  # three leads and the director
    assert not any(s["restatements"] for s in sent["segments"])

    # A late correction: Billing's September tickets that missed the SLA are withdrawn.
    tickets = pd.read_csv(data / "tickets.csv", dtype=str, keep_default_na=False)
    september = tickets["created_at"].str.startswith("2026-09")
    gone = september & (tickets["queue"] == "Billing") & (tickets["sla_met"] == "0")
    assert gone.sum() > 20
    tickets[~gone].to_csv(data / "tickets.csv", index=False)

    again = _run(capsys, *args, "--send")
    by_segment = {s["segment"]: s["restatements"] for s in again["segments"]}
    assert set(by_segment) == {"Billing", "Payments", "Returns"}
    assert by_segment["Payments"] == [] and by_segment["Returns"] == []
    note = by_segment["Billing"][0]
    assert note.startswith("Restated: September 2026 First-reply SLA met was "), note
    # the whole report (the director's) also changed: Billing is part of it
    assert again["restatements"] and again["restatements"][0].startswith("Restated: ")
    # nobody is sent the period twice by a run
    assert len(smtp_server.received) == 4
