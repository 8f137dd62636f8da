"""Fixtures for delivery, runner and scheduling tests: a loopback SMTP server, a ledger in
a SQLite file, and a report definition with a CSV source written into a temporary folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reportgen.ledger.store import Ledger
from reportgen.period import Period
from support.smtp_server import SmtpServer
from support.standin_pipeline import definition_text, write_rows


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    """A folder with ``mqr.yaml`` and ``tickets.csv`` holding 12 rows in October 2026."""
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "mqr.yaml").write_text(definition_text(), encoding="utf-8")
    write_rows(folder / "tickets.csv", Period.parse("2026-10", "month", "Europe/Berlin"), 12)
    return folder


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    store = Ledger(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    yield store
    store.close()
