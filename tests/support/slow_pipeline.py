"""reportgen's own pipeline, with a build that waits until the test lets it go.

Settings can name this module as ``pipeline`` (as a deployment names its own): a test then
knows a build is under way (``STARTED``) and holds it there (``RELEASE``) for as long as it
needs, to see what the rest of a long-lived process does meanwhile.
"""

from __future__ import annotations

import threading
from typing import Any

from reportgen.plan import load_definition
from reportgen.run.build import build_report as _build_report
from reportgen.run.build import render_outputs

__all__ = ["RELEASE", "STARTED", "build_report", "load_definition", "render_outputs"]

STARTED = threading.Event()
RELEASE = threading.Event()


def build_report(loaded: Any, period: Any, *, now: Any) -> Any:
    STARTED.set()
    if not RELEASE.wait(60):
        raise TimeoutError("the test never released the build")
    return _build_report(loaded, period, now=now)
