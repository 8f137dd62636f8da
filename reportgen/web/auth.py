"""Sign-in, roles, CSRF tokens and the sign-in rate limit for the web page."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request

from reportgen.web.store import Role, User, WebStore

CSRF_FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use); every form carries it."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> dict[str, str]:
    """The posted form, once its CSRF token matches the session's; 403 otherwise."""
    form = await request.form()
    sent = str(form.get(CSRF_FIELD, ""))
    expected = str(request.session.get("csrf", ""))
    if not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "the form's security token is missing or out of date; "
                                 "reload the page and try again")
    return {k: str(v) for k, v in form.items()}


def current_user(request: Request) -> User | None:
    name = request.session.get("user")
    store: WebStore = request.app.state.store
    return store.user(name) if name else None


def require(request: Request, role: Role) -> User:
    """The signed-in user if they have ``role``; 401 for nobody, 403 for too little."""
    user = current_user(request)
    if user is None:
        raise HTTPException(401, "sign in first")
    if not user.may(role):
        request.app.state.store.record(user, "forbidden", request.url.path, "refused",
                                       f"needs role {role}")
        raise HTTPException(403, f"this needs the {role} role; you are {user.role}")
    return user


class SignInLimiter:
    """At most ``attempts`` failed sign-ins per key (address and name) in ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 900,
                 clock: Callable[[], float] = time.monotonic):
        self.attempts, self.window, self.clock = attempts, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key)) >= self.attempts

    def failed(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self.clock())

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
