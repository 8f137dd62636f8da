"""Fixtures for tests that mean the same on both ledger backends: ``ledger_url`` gives an
empty database on SQLite and on PostgreSQL (``[sqlite]``, ``[postgresql]``), ``open_ledger``
opens ledgers on it and closes them after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reportgen.ledger.store import Ledger

OpenLedger = Callable[..., Ledger]


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty ledger database on each backend (the server starts only when needed)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def open_ledger() -> Iterator[OpenLedger]:
    """Open ``Ledger``s (each with its own engine) and close them all after the test."""
    opened: list[Ledger] = []

    def open_(url: str, **options: Any) -> Ledger:
        opened.append(Ledger(url, **options))
        return opened[-1]

    yield open_
    for ledger in opened:
        ledger.close()
