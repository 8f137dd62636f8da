"""A reportgen web page on loopback for tests: a folder of definitions over the demo data,
a SQLite ledger, accounts, and uvicorn serving it in a thread."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
import yaml

from reportgen.settings import Settings, SmtpSettings
from reportgen.web import WebConfig, create_app
from reportgen.web.store import WebStore
from support.smtp_server import SmtpServer, free_port

REPO = Path(__file__).resolve().parents[2]
#: the page's clock: early October 2026, so September 2026 (the demo's last month) is the
#: last complete period
NOW = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
SECRET = "test-secret-" + "x" * 40
PASSWORDS = {"ana": "analyst password 1", "alex": "approver password 1",
             "vic": "viewer password 1", "root": "admin password 1"}
ROLES = {"ana": "analyst", "alex": "approver", "vic": "viewer", "root": "admin"}
RECIPIENTS = ["director@example.com", "head-of-quality@example.com"]


def mini_definition(demo_dir: Path, folder: Path) -> Path:
    """A small CSAT report over the demo database (quick to build), mailed to RECIPIENTS."""
    data = {
        "id": "csat-mini", "title": "CSAT Mini Report", "organisation": "Test Org",
        "owner": "owner@example.com",
        "period": {"grain": "month", "timezone": "Europe/Berlin", "history": 4},
        "sources": {"responses": {
            "kind": "sql", "url": f"sqlite:///{demo_dir / 'reportgen_demo.sqlite'}",
            "table": "csat_responses", "time_column": "responded_at",
            "columns": {"rating": "int", "queue": "str"}}},
        "metrics": [{"id": "csat", "label": "CSAT", "calculator": "csat", "source": "responses",
                     "params": {"column": "rating"}, "by": ["queue"], "target": 0.85}],
        "sections": [{"id": "voc", "title": "Voice of the customer", "kpis": ["csat"],
                      "tables": [{"metric": "csat", "by": "queue"}]}],
        "schedule": {"cron": "0 7 2 * *"},
        "delivery": {"email": {"to": RECIPIENTS, "subject": "{title} — {period}"}},
    }
    path = folder / "csat-mini.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def definitions_folder(root: Path, demo_dir: Path) -> Path:
    """The two demo definitions, the mini report and one broken file, as a team would have."""
    folder = root / "configs"
    folder.mkdir()
    out = root / "out"
    out.mkdir(exist_ok=True)
    (out / "demo").symlink_to(demo_dir, target_is_directory=True)
    for name in ("monthly_quality_report.yaml", "qbr.yaml"):
        (folder / name).write_bytes((REPO / "configs" / name).read_bytes())
    mini_definition(demo_dir, folder)
    (folder / "broken.yaml").write_text(
        "id: broken\ntitle: Broken\nperiod: {grain: month}\nmetrics:\n  - id: x\n"
        "    calculator: csat_top2\n", encoding="utf-8")
    return folder


def make_config(root: Path, demo_dir: Path, smtp: SmtpServer | None) -> WebConfig:
    smtp_settings = None if smtp is None else SmtpSettings(
        host=smtp.host, port=smtp.port, security="none", from_address="reports@example.com",
        timeout=5, attempts=1, local_hostname="reportgen.test")
    settings = Settings(ledger_url=f"sqlite:///{root / 'runs.sqlite'}",
                        out_dir=root / "reports", smtp=smtp_settings)
    return WebConfig(definitions_folder(root, demo_dir), settings, SECRET,
                     secure_cookies=False, now=lambda: NOW)


def add_accounts(store: WebStore) -> None:
    for name, role in ROLES.items():
        store.add_user(name, f"{name}@example.com", role, PASSWORDS[name])


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match[1]


def approval_form(client, run_id: int) -> dict[str, str]:
    """What the approver's confirmation page posts for ``run_id``: its CSRF token and the
    sha256 of the files it showed (a TestClient ``client``, signed in)."""
    page = client.get(f"/runs/{run_id}/send")
    assert page.status_code == 200, page.text
    shown = re.search(r'name="sha256" value="([^"]*)"', page.text)
    assert shown, "the confirmation page carries no sha256 of the files it shows"
    return {"csrf_token": csrf_of(page.text), "sha256": shown[1]}


@dataclass
class Site:
    url: str
    app: object
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def serve(config: WebConfig) -> Site:
    """Start the page on a free loopback port; ``Site.stop`` ends it."""
    app = create_app(config)
    add_accounts(app.state.store)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the web page did not start within 20 s")
        time.sleep(0.05)
    return Site(f"http://127.0.0.1:{port}", app, server, thread)
