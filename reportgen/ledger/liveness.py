"""Whether a process recorded earlier (by a lock row or a temporary file name) still exists."""

from __future__ import annotations

import os
import socket


def host_name() -> str:
    """This machine's name as lock rows and temporary file names record it."""
    return socket.gethostname() or "localhost"


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (signal 0 checks without signalling)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
