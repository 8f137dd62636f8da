"""Keep secrets out of logs and messages.

Values that come from the environment through ``${VAR}`` interpolation, and passwords read
from the environment, are remembered here; ``redact`` replaces them wherever text leaves
the process (log records, error messages, the run ledger).
"""

from __future__ import annotations

import logging
import re
import threading

_lock = threading.Lock()
_secrets: set[str] = set()
# Credentials embedded in URLs (postgresql://user:password@host) are masked even when they
# did not come through interpolation.
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)@")
_MIN_LENGTH = 4  # masking very short values would garble unrelated text


def remember(value: str) -> None:
    """Treat ``value`` as a secret from now on."""
    if value and len(value) >= _MIN_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with every remembered secret and URL password replaced by ``***``."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}***@", text)
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, "***")
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
