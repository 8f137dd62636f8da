"""A throwaway PostgreSQL server for tests: its own cluster in a temporary folder.

``postgres_server`` (session scope) runs ``initdb`` and ``pg_ctl`` from the machine's
PostgreSQL server binaries, listening only on 127.0.0.1 on a free port with a random
password, and stops and deletes the cluster when the session ends.  Each pytest-xdist
worker is its own session, so each gets its own cluster (start-up takes about a second),
and nothing is shared between workers.  ``postgres_url`` gives every test a new, empty
database on that server.

PostgreSQL refuses to run as root: as root the cluster runs as the ``postgres`` system user
(created by Debian's ``postgresql`` package) through ``runuser``; otherwise as the current
user.  Missing binaries fail the test with what to install rather than skipping it, so a
machine without PostgreSQL cannot pass the suite by running less of it.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

INSTALL_HINT = "run `scripts/bootstrap-system.sh test` (it installs Debian's `postgresql`)"
#: the cluster's superuser; as root it is also the system user the server runs as
SUPERUSER = "postgres"
START_ATTEMPTS = 3


class PostgresUnavailable(RuntimeError):
    """The server binaries, the driver or the system user the server needs are missing."""


def server_bindir() -> Path:
    """The folder with ``initdb`` and ``pg_ctl``: ``pg_config --bindir``, else the newest
    ``/usr/lib/postgresql/*/bin`` (Debian keeps the server binaries off PATH)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        # libpq-dev alone also ships pg_config, pointing at a folder without a server.
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(Path(found.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_major_version,
                         reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    searched = ", ".join(str(c) for c in candidates) or "no pg_config, no /usr/lib/postgresql"
    raise PostgresUnavailable(
        f"the PostgreSQL server binaries (initdb, pg_ctl) are not installed (searched: "
        f"{searched}); {INSTALL_HINT}")


def _major_version(bindir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name)) or (0,)


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway cluster; ``url(name)`` addresses one of its databases."""

    bindir: Path
    folder: Path
    port: int
    password: str
    run_as: str | None

    def url(self, database: str = "postgres") -> str:
        return (f"postgresql+psycopg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}"
                f"/{database}")

    def create_database(self, prefix: str = "ledger") -> str:
        """Create a new empty database and return its SQLAlchemy URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        """Stop the server at once (its data is thrown away) and delete its folder."""
        try:
            _run(self.run_as, [str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data_dir),
                               "-m", "immediate", "-w", "-s"], cwd=self.folder, check=False)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def log_file(self) -> Path:
        return self.folder / "server.log"


def start_server() -> PostgresServer:
    """initdb a cluster in a new temporary folder and start it on a free loopback port."""
    if importlib.util.find_spec("psycopg") is None:
        raise PostgresUnavailable(
            "the psycopg driver is not installed in this environment; "
            "install the dev extra: pip install -e '.[dev]'")
    bindir = server_bindir()
    run_as = _server_user()
    # Not under pytest's basetemp: as root that is 0700 root's, which the server user
    # could not enter.
    folder = Path(tempfile.mkdtemp(prefix="reportgen-pg-"))
    try:
        password = secrets.token_hex(16)
        password_file = folder / "password"
        password_file.write_text(password + "\n", encoding="utf-8")
        if run_as is not None:
            account = pwd.getpwnam(run_as)
            for path in (folder, password_file):
                os.chown(path, account.pw_uid, account.pw_gid)
        server = PostgresServer(bindir, folder, 0, password, run_as)
        _run(run_as, [str(bindir / "initdb"), "-D", str(server.data_dir), "-U", SUPERUSER,
                      "--pwfile", str(password_file), "--auth", "scram-sha-256",
                      "-E", "UTF8", "--locale", "C", "--no-sync", "--no-instructions"],
             cwd=folder)
        password_file.unlink()
        return _start(server)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _start(server: PostgresServer) -> PostgresServer:
    # A free port can be taken by someone else between the probe and the server's bind:
    # try again with another.
    failure = ""
    for _ in range(START_ATTEMPTS):
        candidate = PostgresServer(server.bindir, server.folder, _free_port(), server.password,
                                   server.run_as)
        # Loopback only, no unix socket; durability is pointless for data thrown away.
        options = (f"-c listen_addresses=127.0.0.1 -c port={candidate.port} "
                   f"-c unix_socket_directories='' -c fsync=off -c synchronous_commit=off "
                   f"-c full_page_writes=off -c max_connections=50")
        started = _run(server.run_as, [str(server.bindir / "pg_ctl"), "start", "-D",
                                       str(server.data_dir), "-l", str(server.log_file),
                                       "-o", options, "-w", "-t", "30", "-s"],
                       cwd=server.folder, check=False)
        if started.returncode == 0:
            return candidate
        failure = _tail(server.log_file) or started.stdout + started.stderr
    raise RuntimeError(f"the throwaway PostgreSQL server did not start in {server.folder}:\n"
                       f"{failure}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_user() -> str | None:
    """The system user to run the server as, or None for the current user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, and PostgreSQL will not: there is no '{SUPERUSER}' system user "
            f"to run it as; {INSTALL_HINT}") from None
    return SUPERUSER


def _run(run_as: str | None, command: Sequence[str], *, cwd: Path,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    full = ["runuser", "-u", run_as, "--", *command] if run_as else list(command)
    # LC_ALL=C: initdb takes its messages' and the cluster's defaults from the locale.
    done = subprocess.run(full, cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "LC_ALL": "C"})
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(full)} failed ({done.returncode}):\n"
                           f"{done.stdout}{done.stderr}")
    return done


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this test session (this xdist worker), stopped at its end."""
    try:
        server = start_server()
    except PostgresUnavailable as missing:
        pytest.fail(str(missing), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The SQLAlchemy URL of a new, empty database for one test."""
    return postgres_server.create_database()
