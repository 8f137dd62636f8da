"""Operational settings: where the run ledger lives and how to reach the SMTP server.

Settings come from a small YAML file (``${VAR}`` is interpolated as in definitions) and
from ``REPORTGEN_*`` environment variables, which win over the file so a deployment can
override one value without editing it.  The SMTP password is never a setting: the file
names the environment variable that holds it, and the value is read only when a message
is sent, then remembered as a secret so ``secrets.redact`` masks it everywhere.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reportgen import secrets
from reportgen.errors import InputError, Location, Problem

Security = Literal["starttls", "tls", "none"]

DEFAULT_LEDGER_FILE = "reportgen-runs.sqlite"
JOBSTORE_FILE = "reportgen-jobs.sqlite"

# Environment variable -> (section, key).  Values are strings; pydantic converts them.
ENVIRONMENT_OVERRIDES: Mapping[str, tuple[str | None, str]] = {
    "REPORTGEN_LEDGER_URL": (None, "ledger_url"),
    "REPORTGEN_JOBSTORE_URL": (None, "jobstore_url"),
    "REPORTGEN_OUT_DIR": (None, "out_dir"),
    "REPORTGEN_SMTP_HOST": ("smtp", "host"),
    "REPORTGEN_SMTP_PORT": ("smtp", "port"),
    "REPORTGEN_SMTP_SECURITY": ("smtp", "security"),
    "REPORTGEN_SMTP_USER": ("smtp", "user"),
    "REPORTGEN_SMTP_PASSWORD_ENV": ("smtp", "password_env"),
    "REPORTGEN_SMTP_FROM": ("smtp", "from_address"),
    "REPORTGEN_BROKER_URL": (None, "broker_url"),
    "REPORTGEN_EXECUTOR": (None, "executor"),
    "REPORTGEN_DUCKDB_MEMORY_LIMIT": ("duckdb", "memory_limit"),
    "REPORTGEN_DUCKDB_TEMP_DIRECTORY": ("duckdb", "temp_directory"),
    "REPORTGEN_CSV_CACHE_ENABLED": ("csv_cache", "enabled"),
    "REPORTGEN_CSV_CACHE_DIRECTORY": ("csv_cache", "directory"),
    "REPORTGEN_CSV_CACHE_MAX_SIZE": ("csv_cache", "max_size"),
}


class SettingsError(InputError):
    """The settings file or a ``REPORTGEN_*`` variable is wrong; every problem is listed."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{file}: {len(self.problems)} problem(s) in the settings\n{lines}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmtpSettings(_Strict):
    """How to reach the mail server."""

    host: str = Field("localhost", description="SMTP server host name.")
    port: int = Field(587, ge=1, le=65535, description="SMTP port (587 starttls, 465 tls, 25 none).")
    security: Security = Field("starttls", description="starttls, tls (implicit TLS) or none.")
    user: str | None = Field(None, description="Login name; no login when unset.")
    password_env: str | None = Field(
        None, description="Name of the environment variable holding the password.")
    from_address: str = Field(description="Sender address, e.g. 'QA Reports <qa@example.com>'.")
    timeout: float = Field(30, gt=0, description="Seconds to wait on the server per operation.")
    attempts: int = Field(4, ge=1, description="Tries per recipient on transient errors.")
    backoff_seconds: float = Field(5, ge=0, description="First wait between tries.")
    backoff_factor: float = Field(2, ge=1, description="Each wait is this many times the last.")
    max_backoff_seconds: float = Field(300, ge=0)
    local_hostname: str | None = Field(None, description="Name sent in EHLO; defaults to the FQDN.")
    ca_file: Path | None = Field(
        None, description="PEM file of certificate authorities to trust for the server "
                          "(an internal CA); the system's are used when unset.")

    @field_validator("host", "from_address", "user")
    @classmethod
    def _single_line(cls, value: str | None) -> str | None:
        if value is not None and ("\r" in value or "\n" in value):
            raise ValueError("must be a single line")
        return value

    def password(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The password from ``password_env``, remembered as a secret; None without a login."""
        if self.user is None:
            return None
        if not self.password_env:
            raise SettingsError("settings", [Problem(
                "smtp.password_env", "smtp.user is set, so name the environment variable "
                "holding the password (the password itself is never written in settings)")])
        env = os.environ if environ is None else environ
        value = env.get(self.password_env)
        if value is None:
            raise SettingsError("settings", [Problem(
                "smtp.password_env", f"environment variable ${{{self.password_env}}} "
                f"(the SMTP password) is not set")])
        secrets.remember(value)
        return value

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        wait = self.backoff_seconds * self.backoff_factor ** (attempt - 1)
        return min(wait, self.max_backoff_seconds)


class WebSettings(_Strict):
    """The web page (``reportgen serve``); its session secret comes only from the environment
    (``REPORTGEN_WEB_SECRET``)."""

    host: str = Field("127.0.0.1", description="Address the page listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the page listens on.")
    secure_cookies: bool = Field(
        True, description="Send the session cookie over HTTPS only; turn off only for a page "
                          "reached on this machine over plain HTTP.")
    public_url: str | None = Field(
        None, description="The page's address as readers reach it, for links in messages.")
    trusted_proxy_header: str | None = Field(
        None, description="Header the TLS proxy in front of the page sets to the client's "
                          "address (e.g. X-Forwarded-For; its last address is used), so the "
                          "sign-in limit counts each client apart. Set it only when every "
                          "request comes through that proxy: anyone can send the header.")


class RetentionSettings(_Strict):
    """How long runs keep their files.  A run's files are pruned when it is beyond both
    limits that are set (the ``keep_runs`` newest runs of a report, and runs younger than
    ``keep_days``, keep theirs); the latest sent run of each period and a run awaiting
    approval always keep theirs.  Nothing is pruned when neither is set."""

    keep_runs: int | None = Field(
        None, ge=1, description="Runs per report (a fan-out with its segments counts as one) "
                                "whose files are kept, newest first.")
    keep_days: int | None = Field(
        None, ge=1, description="Runs started within this many days keep their files.")

    @property
    def active(self) -> bool:
        return self.keep_runs is not None or self.keep_days is not None

    @property
    def rule(self) -> str:
        """The rule as recorded with what it pruned, e.g. 'keep_runs 12, keep_days 90'."""
        parts = [f"keep_runs {self.keep_runs}" if self.keep_runs else "",
                 f"keep_days {self.keep_days}" if self.keep_days else ""]
        return ", ".join(p for p in parts if p)


class DuckDbSettings(_Strict):
    """How much memory and scratch disk each embedded DuckDB database (one per file source)
    may use; beyond its memory limit DuckDB spills to the temporary folder."""

    memory_limit: str | None = Field(
        None, description="e.g. 2GB or 512MiB; default: a quarter of the machine's memory, "
                          "at least 1 GiB. Two sources are read at once on two cores.")
    temp_directory: Path | None = Field(
        None, description="Folder DuckDB spills to beyond its memory limit (relative paths "
                          "are relative to the settings file); default: the system's "
                          "temporary folder.")

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None and size_bytes(value) <= 0:
            raise ValueError("must be more than 0 bytes")
        return value


class CsvCacheSettings(_Strict):
    """CSV sources are copied to Parquet on their first read; later runs read the copy."""

    enabled: bool = Field(True, description="Keep Parquet copies of CSV sources.")
    directory: Path | None = Field(
        None, description="Folder of the copies (relative paths are relative to the settings "
                          "file); default: .csv-cache in the reports folder (out_dir).")
    max_size: str = Field(
        "10GB", description="Beyond this size the least recently used copies are deleted "
                            "(never one used within the last hour).")

    @field_validator("max_size")
    @classmethod
    def _size(cls, value: str) -> str:
        if size_bytes(value) <= 0:
            raise ValueError("must be more than 0 bytes")
        return value


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)?\s*$", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}



def size_bytes(text: str) -> int:
    """'1GB', '512 MiB', '2000000' as bytes; ValueError otherwise (DuckDB's own units)."""
    found = _SIZE.match(text)
    if not found:
        raise ValueError(f"expected a size such as 2GB or 512MiB, got {text!r}")
    return int(float(found[1]) * _UNITS[(found[2] or "B").upper()])


class Settings(_Strict):
    """Everything the runner and the scheduler need besides a definition."""

    ledger_url: str = Field(
        f"sqlite:///{DEFAULT_LEDGER_FILE}",
        description="SQLAlchemy URL of the run ledger; relative SQLite paths are relative "
                    "to the settings file.")
    jobstore_url: str | None = Field(
        None, description="SQLAlchemy URL of the scheduler's job store; defaults to a SQLite "
                          "file next to a SQLite ledger.")
    out_dir: Path = Field(Path("reports"), description="Folder rendered reports are written to.")
    smtp: SmtpSettings | None = None
    send: bool = Field(True, description="Scheduled runs deliver by email.")
    sync_seconds: float = Field(60, gt=0, description="How often the daemon re-reads definitions.")
    lock_minutes: float = Field(
        120, gt=0, description="A run lock not released within this time counts as abandoned.")
    pipeline: str | None = Field(
        None, description="Module providing load_definition, build_report and render_outputs; "
                          "defaults to reportgen's own pipeline.")
    web: WebSettings = Field(default_factory=WebSettings)
    retention: RetentionSettings = Field(
        default_factory=RetentionSettings,
        description="Prune old runs' files after each run and once a day in the daemon.")
    allowed_domains: list[str] = Field(
        default_factory=list,
        description="Domains a fan-out may mail (subdomains included), e.g. [example.com]; a "
                    "segment whose recipients name any other is not made (the run is partial "
                    "and the owner told). Empty: a mapping file's addresses may be at any "
                    "domain, and addresses read from data are all refused.")
    duckdb: DuckDbSettings = Field(
        default_factory=DuckDbSettings,
        description="Memory limit and spill folder of the embedded DuckDB databases.")
    csv_cache: CsvCacheSettings = Field(
        default_factory=CsvCacheSettings,
        description="Parquet copies of CSV sources, so a CSV file is read once.")
    executor: Literal["inline", "celery"] = Field(
        "inline", description="inline: the scheduler runs reports itself; celery: it enqueues "
                              "them for 'reportgen worker' processes.")
    broker_url: str | None = Field(
        None, description="Celery broker (and result) URL for executor celery, "
                          "e.g. redis://127.0.0.1:6379/0.")
    jobs: int | None = Field(
        None, ge=1, le=64, description="Processes rendering a fan-out's reports; default: cores.")
    max_concurrent_runs: int = Field(
        4, ge=1, le=256, description="Runs a worker takes at once, all reports together (one "
                                 "report and period never runs twice at once: its run lock).")
    schedule_jitter_seconds: float = Field(
        30, ge=0, le=3600, description="Spread schedules firing at the same minute over this "
                                       "many seconds, so they do not hit the sources together.")
    base_dir: Path = Field(Path("."), exclude=True)

    def resolved_ledger_url(self) -> str:
        return _resolve_sqlite(self.ledger_url, self.base_dir)

    def resolved_jobstore_url(self) -> str:
        if self.jobstore_url:
            return _resolve_sqlite(self.jobstore_url, self.base_dir)
        ledger = self.resolved_ledger_url()
        if ledger.startswith("sqlite:///") and ledger != "sqlite:///:memory:":
            return "sqlite:///" + str(Path(ledger[len("sqlite:///"):]).parent / JOBSTORE_FILE)
        return ledger  # the job store shares a server database with the ledger

    def resolved_out_dir(self) -> Path:
        return self.out_dir if self.out_dir.is_absolute() else self.base_dir / self.out_dir

    def resolved_csv_cache(self, out_dir: Path | None = None) -> Path | None:
        """The folder of CSV sources' Parquet copies (by default in ``out_dir``, else in the
        settings' reports folder); None when they are off."""
        if not self.csv_cache.enabled:
            return None
        folder = self.csv_cache.directory
        if folder is None:
            return (out_dir or self.resolved_out_dir()) / ".csv-cache"
        return folder if folder.is_absolute() else self.base_dir / folder


def _resolve_sqlite(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str((base / url[len(prefix):]).resolve())
    return url


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``path`` (optional) and ``REPORTGEN_*`` variables in ``environ``."""
    from reportgen.definition.yaml_loader import LineMap, format_path, load_yaml

    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    lines: LineMap | None = None
    file = str(path) if path else "<environment>"
    if path is not None:
        loaded = load_yaml(path, env)
        data, lines = dict(loaded.data), loaded.lines
    for variable, (section, key) in ENVIRONMENT_OVERRIDES.items():
        if variable in env:
            target = data if section is None else data.setdefault(section, {})
            if isinstance(target, dict):
                target[key] = env[variable]
    base = path.parent.resolve() if path else Path.cwd()
    try:
        settings = Settings.model_validate({**data, "base_dir": base})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key_path = tuple(err["loc"])
            location = lines.locate(key_path) if lines else Location(file)
            problems.append(Problem(format_path(key_path), err["msg"], location))
        raise SettingsError(file, problems) from None
    smtp = settings.smtp
    if smtp is not None and smtp.ca_file is not None and not smtp.ca_file.is_absolute():
        smtp = smtp.model_copy(update={"ca_file": base / smtp.ca_file})
        settings = settings.model_copy(update={"smtp": smtp})
    return settings
