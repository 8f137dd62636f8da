"""The web page's tables (accounts, audit trail, approvals, sessions) are ledger schema
version 7, on SQLite and PostgreSQL: a new ledger has them, a version 6 ledger gets them,
and a version 6 ledger whose page already made them (before version 7 the page created its
tables itself, from the definitions below) keeps them and their rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from support.web_tables_v6 import old_web_metadata
from test_runs_postgres import schema_of

from reportgen.ledger.schema import SCHEMA_VERSION, current_version, migrate

if TYPE_CHECKING:
    from pathlib import Path

    from support.ledger_backends import OpenLedger

WEB_TABLES = {"web_users", "web_audit", "web_approvals", "web_sessions"}
T0 = datetime(2026, 10, 2, 7, 0, tzinfo=UTC)


def v6_ledger(url: str, *, with_web_tables: bool) -> None:
    """A ledger at schema version 6, with the web tables an older page made, or without."""
    engine = sa.create_engine(url)
    try:
        assert migrate(engine, target=6) == 6
        if with_web_tables:
            old_web_metadata().create_all(engine, checkfirst=True)
        with engine.connect() as conn:
            assert current_version(conn) == 6
            assert (set(sa.inspect(conn).get_table_names()) & WEB_TABLES
                    == (WEB_TABLES if with_web_tables else set()))
    finally:
        engine.dispose()


def other_database(url: str, tmp_path: Path, name: str) -> str:
    """A second empty database on the same backend as ``url``."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / f'{name}.sqlite'}"
    engine = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


def web_schema(url: str) -> dict[str, Any]:
    return {table: spec for table, spec in schema_of(url).items() if table in WEB_TABLES}


def test_a_new_ledger_is_at_the_current_version_with_the_web_tables(ledger_url: str,
                                                            open_ledger: OpenLedger) -> None:
    ledger = open_ledger(ledger_url)

    with ledger.engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION == 9
        assert set(sa.inspect(conn).get_table_names()) >= WEB_TABLES
    schema = web_schema(ledger_url)
    assert schema["web_approvals"]["indexes"][0][:3] == (
        "ix_web_approvals_run_id", ("run_id",), False)
    assert schema["web_sessions"]["indexes"][0][:3] == (
        "ix_web_sessions_user_name", ("user_name",), False)
    assert schema["web_users"]["primary_key"] == ["name"]
    assert schema["web_sessions"]["primary_key"] == ["id_hash"]


def test_a_version_6_ledger_without_web_tables_gets_them_as_a_new_ledger_has_them(
        ledger_url: str, open_ledger: OpenLedger, tmp_path: Path) -> None:
    v6_ledger(ledger_url, with_web_tables=False)
    fresh_url = other_database(ledger_url, tmp_path, "fresh_v7")

    ledger = open_ledger(ledger_url)
    open_ledger(fresh_url)

    with ledger.engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION == 9
    assert set(web_schema(ledger_url)) == WEB_TABLES
    assert web_schema(ledger_url) == web_schema(fresh_url)


def test_a_version_6_ledger_whose_page_made_the_web_tables_keeps_them_and_their_rows(
        ledger_url: str, open_ledger: OpenLedger, tmp_path: Path) -> None:
    v6_ledger(ledger_url, with_web_tables=True)
    before = web_schema(ledger_url)
    old = old_web_metadata().tables
    engine = sa.create_engine(ledger_url)
    with engine.begin() as conn:
        conn.execute(old["web_users"].insert().values(
            name="ana", email="ana@example.com", role="admin", password_hash="h", created_at=T0))
        conn.execute(old["web_sessions"].insert().values(
            id_hash="s" * 64, user_name="ana", created_at=T0, expires_at=T0 + timedelta(hours=8)))
        conn.execute(old["web_audit"].insert().values(
            at=T0, user_name="ana", action="sign-in", outcome="ok"))
        conn.execute(old["web_approvals"].insert().values(
            run_id=1, decision="approved", user_name="ana", at=T0))
    engine.dispose()

    ledger = open_ledger(ledger_url)

    with ledger.engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION == 9
        assert conn.execute(sa.text(
            "SELECT name, email, role FROM web_users")).all() == [
                ("ana", "ana@example.com", "admin")]
        assert conn.execute(sa.text(
            "SELECT id_hash, user_name FROM web_sessions")).all() == [("s" * 64, "ana")]
        assert conn.execute(sa.text("SELECT count(*) FROM web_audit")).scalar_one() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM web_approvals")).scalar_one() == 1
        # The tables take new rows, ids counting on after the old ones.
        conn.execute(sa.text(
            "INSERT INTO web_audit (at, user_name, action, outcome) "
            "VALUES ('2026-10-02 08:00:00', 'ana', 'sign-out', 'ok')"))
        assert conn.execute(sa.text("SELECT max(id) FROM web_audit")).scalar_one() == 2
    assert web_schema(ledger_url) == before
    fresh_url = other_database(ledger_url, tmp_path, "fresh_web")
    open_ledger(fresh_url)
    assert web_schema(ledger_url) == web_schema(fresh_url)
