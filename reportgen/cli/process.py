"""The command's process: exit codes, SIGTERM unwinding like Ctrl-C, and logging to stderr
with secrets redacted.
"""

from __future__ import annotations

import logging
import sys

from reportgen.secrets import RedactingFilter

log = logging.getLogger("reportgen")

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT, EXIT_HELD = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
EXIT_RESOURCE = 3  # a ResourceError (memory, scratch disk, an unreachable broker)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so it unwinds like Ctrl-C: the run in progress
    is recorded as interrupted and its lock released."""


def terminate_like_interrupt() -> None:
    import signal

    def raise_terminated(signum: int, frame: object) -> None:
        raise Terminated()

    signal.signal(signal.SIGTERM, raise_terminated)


def setup_logging(debug: bool, verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING)
    for noisy in ("fontTools", "weasyprint", "matplotlib", "PIL", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not debug else logging.INFO)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
