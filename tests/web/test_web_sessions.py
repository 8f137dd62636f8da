"""Sessions held server-side, and a sign-in limit that an attacker cannot turn on the user."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from support.web_site import PASSWORDS, add_accounts, csrf_of, make_config

from reportgen.cli import main
from reportgen.settings import WebSettings
from reportgen.web import create_app
from reportgen.web.auth import SignInLimiter

PROXY = "X-Forwarded-For"


@pytest.fixture
def site(tmp_path: Path, demo_dir: Path):
    app = create_app(make_config(tmp_path, demo_dir, None))
    add_accounts(app.state.store)
    return app


@pytest.fixture
def proxied_site(tmp_path: Path, demo_dir: Path):
    """The page behind a TLS proxy that names each client in X-Forwarded-For."""
    config = make_config(tmp_path, demo_dir, None)
    config.settings = config.settings.model_copy(
        update={"web": WebSettings(trusted_proxy_header=PROXY)})
    app = create_app(config)
    add_accounts(app.state.store)
    return app


def _sign_in(app, name: str, password: str, **headers: str):
    client = TestClient(app, base_url="http://127.0.0.1", headers=headers)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"name": name, "password": password,
                                           "csrf_token": token}, follow_redirects=False)
    return client, response


def _signed_in(client: TestClient) -> bool:
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (200, 303)
    return response.status_code == 200


def test_sign_out_ends_the_session_even_for_a_kept_copy_of_the_cookie(site):
    client, response = _sign_in(site, "vic", PASSWORDS["vic"])
    assert response.status_code == 303 and _signed_in(client)
    kept = dict(client.cookies)
    copy = TestClient(site, base_url="http://127.0.0.1", cookies=kept)
    assert _signed_in(copy)

    token = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303

    again = TestClient(site, base_url="http://127.0.0.1", cookies=kept)
    assert not _signed_in(again)
    assert not _signed_in(copy)


def test_a_password_change_ends_every_session_of_the_account(site):
    first, _ = _sign_in(site, "ana", PASSWORDS["ana"])
    second, _ = _sign_in(site, "ana", PASSWORDS["ana"])
    other, _ = _sign_in(site, "vic", PASSWORDS["vic"])
    assert _signed_in(first) and _signed_in(second)

    site.state.store.set_password("ana", "a brand new password")

    assert not _signed_in(first) and not _signed_in(second)
    assert _signed_in(other)
    assert _sign_in(site, "ana", PASSWORDS["ana"])[1].status_code == 401
    assert _sign_in(site, "ana", "a brand new password")[1].status_code == 303


def test_an_attacker_behind_the_same_proxy_cannot_lock_the_user_out(proxied_site):
    site = proxied_site
    # Both reach the page through the TLS proxy (one peer address); the proxy names each.
    attacker = {PROXY: "198.51.100.7"}
    for attempt in range(8):
        _, wrong = _sign_in(site, "alex", f"guess {attempt}", **attacker)
        assert wrong.status_code == (401 if attempt < 5 else 429)
    # the attacker's own right guess now waits too
    assert _sign_in(site, "alex", PASSWORDS["alex"], **attacker)[1].status_code == 429

    user, response = _sign_in(site, "alex", PASSWORDS["alex"], **{PROXY: "203.0.113.20"})
    assert response.status_code == 303 and _signed_in(user)


def test_the_proxy_header_is_ignored_unless_configured(site):
    app = site
    for attempt in range(5):  # a new forged address each time
        assert _sign_in(app, "alex", "guess", **{PROXY: f"192.0.2.{attempt}"}
                        )[1].status_code == 401
    assert _sign_in(app, "alex", "guess", **{PROXY: "192.0.2.99"})[1].status_code == 429


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_wait_doubles_with_each_further_failure_and_spraying_holds_the_client():
    clock = Clock()
    limiter = SignInLimiter(attempts=3, window=900, per_client=6, base_delay=10, clock=clock)
    for _ in range(3):
        assert not limiter.blocked("ana", "a")
        limiter.failed("ana", "a")
    assert limiter.wait("ana", "a") == pytest.approx(10)
    clock.now += 10
    limiter.failed("ana", "a")
    assert limiter.wait("ana", "a") == pytest.approx(20)
    assert not limiter.blocked("ana", "b") and not limiter.blocked("vic", "a")

    for name in ("vic", "bea"):  # six failures from 'a' across accounts
        limiter.failed(name, "a")
    assert limiter.blocked("root", "a") and not limiter.blocked("root", "b")
    clock.now += 901
    assert not limiter.blocked("root", "a") and not limiter.blocked("ana", "a")


def test_users_password_changes_it_and_signs_the_account_out(site, monkeypatch, capsys):
    client, _ = _sign_in(site, "ana", PASSWORDS["ana"])
    assert _signed_in(client)
    url = site.state.ledger.url
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "password", "ana", "--ledger", url]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    assert _signed_in(client)  # nothing changed

    monkeypatch.setattr("sys.stdin", io.StringIO("another long secret\n"))
    assert main(["users", "password", "ana", "--ledger", url]) == 0
    assert not _signed_in(client)
    assert site.state.store.authenticate("ana", "another long secret").name == "ana"
    monkeypatch.setattr("sys.stdin", io.StringIO("another long secret\n"))
    assert main(["users", "password", "nobody", "--ledger", url]) == 2
    assert "user 'nobody' does not exist" in capsys.readouterr().err
