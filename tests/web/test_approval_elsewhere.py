"""A run made in one folder is downloaded, approved and resent from another: its files are
found from the ledger whatever folder the page or the command runs in."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient
from support.web_site import (
    PASSWORDS,
    RECIPIENTS,
    SECRET,
    add_accounts,
    approval_form,
    csrf_of,
    mini_definition,
)

import reportgen
from reportgen.ledger.schema import artifacts
from reportgen.ledger.store import Ledger
from reportgen.settings import load_settings
from reportgen.web import WebConfig, create_app

REPO = Path(reportgen.__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
APPROVER = "alex@example.com"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reportgen.cli", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_a_run_sent_from_one_folder_is_downloaded_approved_and_resent_from_another(
        tmp_path, demo_dir, smtp_server, monkeypatch):
    team, folder_a, folder_b = (tmp_path / name for name in ("team", "a", "b"))
    for folder in (team, folder_a, folder_b):
        folder.mkdir()
    definition = mini_definition(demo_dir, team)
    data = yaml.safe_load(definition.read_text(encoding="utf-8"))
    data["approval"] = {"required": True, "approvers": [APPROVER]}
    definition.write_text(yaml.safe_dump(data), encoding="utf-8")
    settings_path = tmp_path / "settings.yaml"
    settings_path.write_text(yaml.safe_dump({
        "ledger_url": "sqlite:///runs.sqlite", "out_dir": "reports",
        "smtp": {"host": smtp_server.host, "port": smtp_server.port, "security": "none",
                 "from_address": "reports@example.com", "timeout": 5, "attempts": 1}}),
        encoding="utf-8")

    made = cli("run", str(definition), "--period", "2026-09", "--send",
               "--settings", str(settings_path), cwd=folder_a)
    assert made.returncode == 0, made.stderr
    assert [list(m.rcpt_tos) for m in smtp_server.wait_for(1)] == [[APPROVER]]
    pdf = next((folder_a / "out").rglob("*.pdf"))  # 'run' writes to ./out by default

    monkeypatch.chdir(folder_b)
    app = create_app(WebConfig(team, load_settings(settings_path), SECRET,
                               settings_path=settings_path, secure_cookies=False))
    add_accounts(app.state.store)
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"name": "alex", "password": PASSWORDS["alex"],
                                "csrf_token": token})
    (run,) = app.state.ledger.history("csat-mini")
    assert run.status == "pending_approval"
    page = client.get(f"/runs/{run.id}").text
    link = re.search(r'href="(/files/[^"]+\.pdf)"', page)
    assert link, page
    download = client.get(link[1])
    assert download.status_code == 200
    assert hashlib.sha256(download.content).digest() == hashlib.sha256(pdf.read_bytes()).digest()

    approved = client.post(f"/runs/{run.id}/approve", data=approval_form(client, run.id),
                           follow_redirects=False)
    assert approved.status_code == 303, approved.text
    assert app.state.ledger.get_run(run.id).status == "succeeded"
    assert sorted(smtp_server.by_recipient()) == sorted([APPROVER, *RECIPIENTS])
    assert app.state.store.approvals_of([run.id])[run.id].decision == "approved"

    resent = cli("resend", str(run.id), "--settings", str(settings_path), cwd=folder_b)
    assert resent.returncode == 0, resent.stderr
    by_recipient = smtp_server.by_recipient()
    assert {r: len(by_recipient[r]) for r in RECIPIENTS} == {r: 2 for r in RECIPIENTS}


def test_an_artifact_row_recorded_relative_to_another_folder_is_found_under_out_dir(
        tmp_path, monkeypatch):
    out_dir = tmp_path / "a" / "out"
    file = out_dir / "mqr" / "2026-09" / "run-1" / "mqr-2026-09.pdf"
    file.parent.mkdir(parents=True)
    file.write_bytes(b"%PDF-1.4 a report")
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    writer = Ledger(url)
    run_id = writer.start_run("mqr", "2026-09", trigger="manual", definition_hash="h",
                              code_version="t")
    assert run_id == 1
    with writer.engine.begin() as conn:  # a row as 'run' recorded it from folder a
        conn.execute(artifacts.insert().values(
            run_id=run_id, format="pdf", path="out/mqr/2026-09/run-1/mqr-2026-09.pdf",
            size=file.stat().st_size, sha256=hashlib.sha256(file.read_bytes()).hexdigest()))
    writer.close()

    monkeypatch.chdir(tmp_path)  # neither folder a nor the out folder
    reader = Ledger(url, out_dir=out_dir)
    (found,) = reader.get_run(run_id).artifacts
    reader.close()
    assert Path(found.path) == file
