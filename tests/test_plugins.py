"""Plugins a definition can name: a renderer, a delivery channel and a source kind from
another distribution, found through entry points and checked like built-ins."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from support.plugin_kit import install_plugins
from support.webhook_server import WebhookServer

from reportgen.data.connectors import SOURCES
from reportgen.delivery.channels import CHANNELS
from reportgen.errors import DefinitionError
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.plan.schema import definition_schema
from reportgen.render import RENDERERS
from reportgen.run.runner import run_report

SEPTEMBER = Period.parse("2026-09", "month", "UTC")
RATINGS = [5, 5, 4, 2, 5, 1, 4, 5]  # 4 of 8 are 5s, 6 of 8 are 4 or 5

DEFINITION = """\
id: plugin-report
title: Plugin Report
period: {grain: month, timezone: UTC, history: 2}
statistics: {min_n: 5}
sources:
  responses:
    kind: sqlite_table
    options: {file: responses.sqlite, table: responses}
    time_column: responded_at
    columns: {rating: int, queue: str}
metrics:
  - {id: csat, label: CSAT, calculator: csat, source: responses, params: {column: rating}}
sections:
  - {id: voc, title: Voice of the customer, kpis: [csat]}
outputs:
  - {format: txt, heading: Quality in brief, filename: "{report}.{ext}"}
delivery:
  webhook: {url_env: QA_HOOK}
"""


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """The plugin distribution installed on sys.path; the registries see it afresh and
    forget it afterwards."""
    monkeypatch.syspath_prepend(str(install_plugins(tmp_path / "site")))
    for registry in (RENDERERS, CHANNELS, SOURCES):
        registry.names()  # built-ins registered before the snapshot
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
        monkeypatch.setattr(registry, "_instances", {})
        monkeypatch.setattr(registry, "_loaded", False)


@pytest.fixture
def hook():
    server = WebhookServer().start()
    yield server
    server.stop()


def _folder(tmp_path: Path, text: str = DEFINITION) -> Path:
    folder = tmp_path / "defs"
    folder.mkdir()
    with sqlite3.connect(folder / "responses.sqlite") as db:
        db.execute("CREATE TABLE responses (responded_at TEXT, rating INTEGER, queue TEXT)")
        db.executemany("INSERT INTO responses VALUES (?, ?, ?)",
                       [(f"2026-09-{day + 1:02d} 10:00:00", rating, "Billing")
                        for day, rating in enumerate(RATINGS)])
    (folder / "report.yaml").write_text(text, encoding="utf-8")
    return folder / "report.yaml"


def test_a_plugin_format_channel_and_source_kind_run_from_yaml_once(plugins, hook, tmp_path):
    path = _folder(tmp_path)
    ledger = Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    environ = {"QA_HOOK": hook.url + "/hooks/quality"}
    hook.answers = [503]  # one bad moment: retried, still one delivery

    def run():
        return run_report(load_definition(path), SEPTEMBER, trigger="manual", ledger=ledger,
                          out_dir=tmp_path / "out", send=True, smtp=None, environ=environ,
                          sleep=lambda _: None)

    first = run()
    assert first.status == "succeeded", first.error
    (artifact,) = first.artifacts
    assert artifact.format == "txt" and Path(artifact.path).name == "plugin-report.txt"
    lines = Path(artifact.path).read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["Quality in brief", "Plugin Report", "September 2026"]
    share = sum(r >= 4 for r in RATINGS) / len(RATINGS)  # CSAT: ratings of 4 or 5
    assert lines[3].startswith("CSAT: ") and f"{share * 100:.0f}" in lines[3]
    accepted = hook.accepted("/hooks/quality")
    assert [p.status for p in hook.posts] == [503, 200] and len(accepted) == 1
    assert accepted[0].json == {"title": "Plugin Report", "period": "September 2026",
                                "files": ["plugin-report.txt"]}
    (row,) = first.deliveries
    assert (row.channel, row.recipient, row.status, row.attempts) == (
        "webhook", "webhook:QA_HOOK", "sent", 2)

    second = run()
    assert second.status == "succeeded", second.error
    assert len(hook.accepted("/hooks/quality")) == 1  # the rerun does not post again


def test_unknown_plugin_names_are_located_with_a_did_you_mean(plugins, tmp_path):
    text = (DEFINITION.replace("kind: sqlite_table", "kind: sqlite_tabel")
            .replace("format: txt", "format: tx").replace("  webhook:", "  webhok:"))
    path = _folder(tmp_path, text)
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    message = str(caught.value)
    lines = text.splitlines()
    for needle, hint in (("sqlite_tabel", "unknown source kind 'sqlite_tabel'; did you mean "
                                          "'sqlite_table'?"),
                         ("format: tx", "unknown renderer 'tx'; did you mean 'txt'? "
                                        "(available: html, pdf, pptx, txt, xlsx)"),
                         ("webhok", "unknown delivery channel 'webhok'; did you mean "
                                    "'webhook'? (available: email, slack, teams, webhook)")):
        line = next(i for i, t in enumerate(lines, 1) if needle in t)
        assert f"{path}:{line}:" in message and hint in message, message


def test_plugin_options_are_checked_by_their_own_schema(plugins, tmp_path):
    text = (DEFINITION.replace("heading: Quality in brief", "colour: red")
            .replace("webhook: {url_env: QA_HOOK}", "webhook: {url_env: qa-hook}")
            .replace("table: responses}", "tabel: responses}"))
    path = _folder(tmp_path, text)
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    message = str(caught.value)
    assert "outputs[0].colour: unknown key 'colour'" in message
    assert "delivery.webhook.url_env: string should match pattern" in message
    assert "sources.responses.options.tabel: unknown key 'tabel'; did you mean 'table'?" \
        in message
    assert "sources.responses.options: missing required key 'table'" in message


def test_a_built_in_source_kind_takes_no_options(tmp_path):
    path = _folder(tmp_path, DEFINITION.replace(
        "kind: sqlite_table", "kind: sql\n    url: sqlite:///responses.sqlite\n"
                              "    table: responses"))
    with pytest.raises(DefinitionError, match=r"sources.responses.options.file: unknown key"):
        load_definition(path)


def test_the_json_schema_is_built_from_the_registries(plugins):
    schema = definition_schema()
    defs = schema["$defs"]
    txt = next(v for v in defs["OutputSpec"]["oneOf"]
               if v["properties"]["format"] == {"const": "txt", **{
                   "description": v["properties"]["format"]["description"]}})
    assert txt["properties"]["heading"]["default"] == "Report"
    assert txt["additionalProperties"] is False
    webhook = defs["DeliverySpec"]["properties"]["webhook"]["anyOf"][0]
    assert webhook["required"] == ["url_env"]
    assert "sqlite_table" in defs["SourceSpec"]["properties"]["kind"]["enum"]
    table = next(rule["then"]["properties"]["options"] for rule in defs["SourceSpec"]["allOf"]
                 if rule["if"]["properties"]["kind"]["const"] == "sqlite_table")
    assert set(table["required"]) == {"file", "table"}


def test_validate_stays_clear_of_the_data_and_drawing_stack():
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "reportgen.cli", "validate",
                           str(root / "configs" / "qbr.yaml")],
                          capture_output=True, text=True, cwd=root, check=True)
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "reportgen.delivery.channels" in loaded and "reportgen.render" in loaded
    assert not loaded & {"pandas", "matplotlib", "sqlalchemy"}
