"""The web page's tables as it defined and created them itself (``create_all``) before they
were in the ledger's schema (version 7): what a deployment upgrading from then has.  Kept
apart from the migration's own copy, so the migration is tested against the old code's
tables, not against itself."""

from __future__ import annotations

import sqlalchemy as sa

from reportgen.ledger.schema import UtcDateTime


def old_web_metadata() -> sa.MetaData:
    """The web tables as the page defined and created them (``create_all``) before version 7."""
    metadata = sa.MetaData()
    sa.Table(
        "web_users", metadata,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    sa.Table(
        "web_audit", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("user_name", sa.String(64)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(255), nullable=False, server_default=""),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text),
    )
    sa.Table(
        "web_approvals", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, nullable=False, index=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("at", UtcDateTime, nullable=False),
    )
    sa.Table(
        "web_sessions", metadata,
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(64), nullable=False, index=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
    )
    return metadata
