"""An invalid definition in the schedule's folder: logged once per version of the file, and
its owner told by e-mail, while the other reports keep their schedules."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

import pydantic

from reportgen import secrets
from reportgen.errors import ReportgenError
from reportgen.settings import Settings, load_settings

logger = logging.getLogger("reportgen.executors.scheduler")

# Invalid files already reported, by content hash: the daemon re-reads the folder every
# minute and should say each problem once, not once a minute.
_invalid_reported: dict[str, str] = {}

#: Bytes of a file hashed to tell whether it changed (the loader refuses larger files).
_HASH_LIMIT = 2_000_000


def _file_digest(path: Path) -> str:
    try:
        stat = path.stat()
        if not path.is_file():  # a FIFO or device would block or never end
            return f"special:{stat.st_mode}:{stat.st_mtime_ns}"
        with path.open("rb") as fh:
            head = fh.read(_HASH_LIMIT)
    except OSError:
        return ""
    return f"{stat.st_size}:{hashlib.sha256(head).hexdigest()}"


def _report_invalid(path: Path, problem: str, settings_path: Path | None) -> bool:
    """Log an invalid definition once per version of the file, and tell its owner.

    Returns True when this version of the file had not been reported yet.
    """
    digest = _file_digest(path)
    if _invalid_reported.get(str(path)) == digest:
        logger.debug("%s is still invalid", path)
        return False
    _invalid_reported[str(path)] = digest
    text = secrets.redact(problem)
    logger.error("%s", text)
    owner = _owner_of(path)
    if owner is None:
        logger.info("%s: no valid owner address in the file; the problem is only logged", path)
        return True
    try:
        settings = load_settings(settings_path)
    except ReportgenError as exc:
        logger.error("cannot tell %s about %s: %s", owner, path, secrets.redact(str(exc)))
        return True
    if settings.smtp is None or not settings.send:
        logger.info("%s: no SMTP settings (or sending is off); owner %s not told", path, owner)
        return True
    try:
        _send_invalid_notice(owner, path, text, settings)
    except Exception as exc:  # a failed notice must not stop the scheduler
        logger.error("could not tell %s that %s is invalid: %s", owner, path,
                     secrets.redact(str(exc)))
    else:
        logger.info("told %s that %s is invalid", owner, path)
    return True


def _owner_of(path: Path) -> str | None:
    """The ``owner`` address written in a definition, if the file parses that far."""
    from reportgen.definition.delivery_specs import Address
    from reportgen.definition.yaml_loader import load_yaml

    try:
        data = load_yaml(path).data
    except Exception:  # nothing to go on: the problem is logged, not mailed
        return None
    owner = data.get("owner")
    if not isinstance(owner, str):
        return None
    try:
        return str(pydantic.TypeAdapter(Address).validate_python(owner))
    except pydantic.ValidationError:
        return None


def _send_invalid_notice(owner: str, path: Path, problem: str, settings: Settings) -> None:
    from reportgen.delivery.email import check_header
    from reportgen.delivery.smtp import SmtpSession

    smtp = settings.smtp
    assert smtp is not None
    message = EmailMessage()
    message["Subject"] = check_header("Subject", f"[not scheduled] {path.name} is invalid")
    message["From"] = check_header("From", smtp.from_address)
    message["To"] = check_header("To", owner)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=parseaddr(smtp.from_address)[1]
                                       .rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"The report definition {path} cannot be scheduled, so it will not run until it is "
        f"fixed. The other reports keep their schedules.\n\n{problem}\n\n"
        f"Check a fix with 'reportgen validate {path}'; the scheduler picks it up on its "
        f"next read of the folder.\n")
    session = SmtpSession(smtp, smtp.password())
    try:
        session.send(message, parseaddr(smtp.from_address)[1] or smtp.from_address, owner)
    finally:
        session.close()
