"""The web page's store reads and writes the ledger's web tables (ledger schema version 7)
and leaves creating and migrating them to the ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from support.web_tables_v6 import old_web_metadata

from reportgen.errors import ReportgenError
from reportgen.ledger.schema import SCHEMA_VERSION, current_version, migrate
from reportgen.web.store import WebStore

if TYPE_CHECKING:
    from support.ledger_backends import OpenLedger

NOW = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
WEB_TABLES = {"web_users", "web_audit", "web_approvals", "web_sessions"}


def test_accounts_and_sessions_an_older_page_kept_work_after_the_ledger_migrates(
        ledger_url: str, open_ledger: OpenLedger) -> None:
    engine = sa.create_engine(ledger_url)
    migrate(engine, target=6)
    # The tables as the page made them (create_all) before they were in the ledger's schema
    old = old_web_metadata()
    old_users, old_sessions = old.tables["web_users"], old.tables["web_sessions"]
    old.create_all(engine, tables=[old_users, old_sessions])  # two of the four
    with engine.begin() as conn:
        conn.execute(old_users.insert().values(
            name="ana", email="ana@example.com", role="approver",
            password_hash=PasswordHasher().hash("ana's long password"),
            created_at=NOW - timedelta(days=4)))
        conn.execute(old_sessions.insert().values(
            id_hash=hashlib.sha256(b"old-session").hexdigest(), user_name="ana",
            created_at=NOW - timedelta(hours=1), expires_at=NOW + timedelta(hours=7)))
    engine.dispose()

    ledger = open_ledger(ledger_url)
    store = WebStore(ledger.engine, now=lambda: NOW)

    with ledger.engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION == 9
        assert set(sa.inspect(conn).get_table_names()) >= WEB_TABLES
    ana = store.authenticate("ana", "ana's long password")
    assert ana is not None and ana.role == "approver"
    assert store.session_user("old-session") == ana
    # The tables the older page did not have yet were added and take rows.
    store.record(ana, "sign-in", "", "ok")
    store.decide(7, "approved", ana, None)
    assert [e.action for e in store.audit_entries()] == ["sign-in"]
    assert store.approvals_of([7])[7].user_name == "ana"
    new_session = store.open_session(ana)
    assert store.session_user(new_session) == ana
    store.set_password("ana", "a new long password")
    assert store.session_user("old-session") is None
    assert store.session_user(new_session) is None


def test_the_store_refuses_a_ledger_that_is_not_migrated_and_creates_nothing(
        ledger_url: str) -> None:
    engine = sa.create_engine(ledger_url)
    try:
        migrate(engine, target=6)

        with pytest.raises(ReportgenError, match="schema version 6.*open it as a Ledger"):
            WebStore(engine, now=lambda: NOW)

        with engine.connect() as conn:
            assert current_version(conn) == 6
            assert not WEB_TABLES & set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()

