"""What the web page keeps beside the run ledger: accounts, sessions, approvals and the
audit trail.

The tables live in the ledger's database (one authority for runs and who acted on them)
and are part of its schema (``reportgen.ledger.schema``, from version 7): opening the
``Ledger`` creates or migrates them with the rest, so a ``WebStore`` is given the engine of
an opened ledger and only reads and writes rows.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from reportgen.errors import InputError, ReportgenError
from reportgen.ledger.schema import SCHEMA_VERSION, current_version
from reportgen.ledger.schema import web_approvals as approvals
from reportgen.ledger.schema import web_audit as audit
from reportgen.ledger.schema import web_sessions as sessions
from reportgen.ledger.schema import web_users as users
from reportgen.ledger.store import utc_now

Role = Literal["viewer", "analyst", "approver", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
Decision = Literal["approved", "rejected"]

SESSION_LIFETIME = timedelta(hours=8)


def _session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class User:
    name: str
    email: str
    role: Role

    def may(self, role: Role) -> bool:
        """Whether this user has ``role`` or a higher one (admin > approver > analyst > viewer)."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    user_name: str | None
    action: str
    target: str
    outcome: str
    detail: str | None


@dataclass(frozen=True)
class AuditTargets:
    """What an audit entry about one report names: its runs (``run 12``) exactly, or text
    matching one of ``patterns`` (SQL LIKE, ``\\`` escaping)."""

    exact: tuple[str, ...]
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Approval:
    run_id: int
    decision: Decision
    user_name: str
    reason: str | None
    at: datetime


class UserError(InputError):
    """A bad account request (unknown role, taken name, weak password)."""


# argon2id with the library's recommended parameters (RFC 9106 low-memory profile)
_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


class WebStore:
    """Accounts, approvals and audit entries in the ledger database at ``engine``, which
    must be at the current schema version (a ``Ledger`` opened on it migrates it)."""

    def __init__(self, engine: sa.Engine, *, now: Callable[[], datetime] = utc_now):
        self.engine = engine
        self.now = now
        with engine.connect() as conn:
            found = current_version(conn)
        if found < SCHEMA_VERSION:
            raise ReportgenError(
                f"the run ledger at {engine.url.render_as_string(hide_password=True)} has "
                f"schema version {found}, older than this reportgen's ({SCHEMA_VERSION}); "
                "open it as a Ledger first, which migrates it")
        # A hash to check against when the name is unknown, so a wrong name costs the same
        # time as a wrong password and does not reveal which names exist.
        self._dummy_hash = _hasher.hash("not a password of anyone")

    # accounts
    def add_user(self, name: str, email: str, role: str, password: str) -> User:
        if role not in ROLES:
            raise UserError(f"role '{role}' is not one of {', '.join(ROLES)}")
        if not name or len(name) > 64 or not name.replace("-", "").replace(".", "").replace(
                "_", "").isalnum():
            raise UserError(f"user name {name!r}: expected 1-64 letters, digits, '.', '-', '_'")
        if "@" not in email or any(c.isspace() for c in email):
            raise UserError(f"e-mail {email!r}: expected an address like name@example.com")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"password: expected at least {MIN_PASSWORD_LENGTH} characters, "
                            f"got {len(password)}")
        with self.engine.begin() as conn:
            if conn.execute(sa.select(users.c.name).where(users.c.name == name)).first():
                raise UserError(f"user '{name}' already exists")
            conn.execute(users.insert().values(name=name, email=email, role=role,
                                               password_hash=_hasher.hash(password),
                                               created_at=self.now()))
        return User(name, email, role)

    def user(self, name: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
        return None if row is None else User(row.name, row.email, row.role)

    def authenticate(self, name: str, password: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
        try:
            _hasher.verify(row.password_hash if row else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return None if row is None else User(row.name, row.email, row.role)

    def set_password(self, name: str, password: str) -> None:
        """Give ``name`` a new password; every session of theirs ends."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"password: expected at least {MIN_PASSWORD_LENGTH} characters, "
                            f"got {len(password)}")
        with self.engine.begin() as conn:
            changed = conn.execute(users.update().where(users.c.name == name).values(
                password_hash=_hasher.hash(password))).rowcount
            if not changed:
                raise UserError(f"user '{name}' does not exist")
            conn.execute(sessions.delete().where(sessions.c.user_name == name))

    # sessions
    def open_session(self, user: User) -> str:
        """A new session of ``user``; the returned id goes in the (signed) cookie."""
        session_id = secrets.token_urlsafe(32)
        now = self.now()
        with self.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.expires_at < now))
            conn.execute(sessions.insert().values(
                id_hash=_session_hash(session_id), user_name=user.name, created_at=now,
                expires_at=now + SESSION_LIFETIME))
        return session_id

    def session_user(self, session_id: str) -> User | None:
        """The user of a live session, or None (ended, expired or never opened)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(users).join(sessions, sessions.c.user_name == users.c.name)
                .where(sessions.c.id_hash == _session_hash(session_id),
                       sessions.c.expires_at > self.now())).first()
        return None if row is None else User(row.name, row.email, row.role)

    def end_session(self, session_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.id_hash == _session_hash(session_id)))

    # audit
    def record(self, user: User | None, action: str, target: str, outcome: str,
               detail: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(audit.insert().values(
                at=self.now(), user_name=user.name if user else None, action=action,
                target=target, outcome=outcome, detail=detail))

    def audit_entries(self, limit: int = 200, *, user: str | None = None,
                      action: str | None = None, targets: AuditTargets | None = None,
                      since: datetime | None = None, until: datetime | None = None
                      ) -> list[AuditEntry]:
        """The newest ``limit`` entries, narrowed to one user, one action, the ``targets``
        of one report, and the moments from ``since`` to before ``until``."""
        query = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
        if user:
            query = query.where(audit.c.user_name == user)
        if action:
            query = query.where(audit.c.action == action)
        if targets is not None:
            query = query.where(sa.or_(
                audit.c.target.in_(targets.exact) if targets.exact else sa.false(),
                *(audit.c.target.like(p, escape="\\") for p in targets.patterns)))
        if since is not None:
            query = query.where(audit.c.at >= since)
        if until is not None:
            query = query.where(audit.c.at < until)
        with self.engine.connect() as conn:
            rows = conn.execute(query)
            return [AuditEntry(r.at, r.user_name, r.action, r.target, r.outcome, r.detail)
                    for r in rows]

    def audit_choices(self) -> tuple[list[str], list[str]]:
        """The users and the actions the audit trail names, for its filters."""
        with self.engine.connect() as conn:
            names = conn.execute(sa.select(audit.c.user_name).distinct()
                                 .where(audit.c.user_name.is_not(None))).scalars().all()
            actions = conn.execute(sa.select(audit.c.action).distinct()).scalars().all()
        return sorted(names), sorted(actions)

    # approvals
    def decide(self, run_id: int, decision: Decision, user: User, reason: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(approvals.insert().values(run_id=run_id, decision=decision,
                                                   user_name=user.name, reason=reason,
                                                   at=self.now()))

    def approvals_of(self, run_ids: list[int]) -> dict[int, Approval]:
        """The latest decision for each of ``run_ids`` that has one."""
        if not run_ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(approvals).where(approvals.c.run_id.in_(run_ids))
                                .order_by(approvals.c.id))
            found: dict[int, Any] = {r.run_id: r for r in rows}
        return {k: Approval(r.run_id, r.decision, r.user_name, r.reason, r.at)
                for k, r in found.items()}
