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


SESSION_KEY = "sid"


def current_user(request: Request) -> User | None:
    """The user of the request's server-side session; None once it was ended (sign-out, a
    password change) or has expired, whatever the cookie still says."""
    if not hasattr(request.state, "user"):  # looked up once per request
        sid = request.session.get(SESSION_KEY)
        store: WebStore = request.app.state.store
        request.state.user = store.session_user(str(sid)) if sid else None
    return request.state.user


def client_address(request: Request, header: str | None) -> str:
    """The address the request came from: the last address in the trusted proxy's
    ``header`` when one is configured (the proxy appends the peer it saw), else the peer."""
    peer = request.client.host if request.client else "-"
    if header:
        forwarded = request.headers.get(header, "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return peer


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
    """Failed sign-ins, counted per (account, client address) and per client address.

    A client with ``attempts`` failures for one account in ``window`` seconds waits before
    its next try at that account, ``base_delay`` doubling with each further failure (at most
    the window); a client with ``per_client`` failures across accounts waits out the window.
    Neither holds back another client: whoever guesses at an account from one address never
    stops its owner signing in from theirs.
    """

    def __init__(self, attempts: int = 5, window: float = 900, *, per_client: int = 20,
                 base_delay: float = 60, clock: Callable[[], float] = time.monotonic):
        self.attempts, self.window, self.per_client = attempts, window, per_client
        self.base_delay, self.clock = base_delay, clock
        self._failures: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, ...]) -> deque[float]:
        now = self.clock()
        failures = self._failures.setdefault(key, deque())
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def wait(self, account: str, client: str) -> float:
        """Seconds ``client`` must wait before trying ``account`` (0: it may try now)."""
        with self._lock:
            now = self.clock()
            pair = self._recent((account, client))
            waits = [0.0]
            if len(pair) >= self.attempts:
                delay = min(self.base_delay * 2 ** (len(pair) - self.attempts), self.window)
                waits.append(pair[-1] + delay - now)
            spread = self._recent((client,))
            if len(spread) >= self.per_client:
                waits.append(spread[-self.per_client] + self.window - now)
            for key in ((account, client), (client,)):
                if not self._failures.get(key):
                    self._failures.pop(key, None)
            return max(waits)

    def blocked(self, account: str, client: str) -> bool:
        return self.wait(account, client) > 0

    def failed(self, account: str, client: str) -> None:
        with self._lock:
            for key in ((account, client), (client,)):
                self._recent(key).append(self.clock())

    def succeeded(self, account: str, client: str) -> None:
        with self._lock:
            self._failures.pop((account, client), None)
