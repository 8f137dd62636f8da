"""Where the built-in report templates live.

In a source checkout (and an editable install) they are ``report_templates/`` beside the
package; a wheel installs the same files under ``<prefix>/share/reportgen/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reportgen.errors import RenderError

_CHECKOUT = Path(__file__).resolve().parents[2] / "report_templates"
_INSTALLED = Path(sys.prefix) / "share" / "reportgen" / "report_templates"


def find_builtin(kind: str) -> Path:
    """The built-in template folder ``kind`` (``mqr`` or ``qbr``); the checkout path if neither exists."""
    for root in (_CHECKOUT, _INSTALLED):
        if (root / kind).is_dir():
            return root / kind
    return _CHECKOUT / kind


def builtin_templates(kind: str) -> Path:
    """The built-in template folder ``kind``, or a RenderError saying where it looked."""
    folder = find_builtin(kind)
    if folder.is_dir():
        return folder
    raise RenderError(
        f"the built-in '{kind}' templates are missing: looked in {_CHECKOUT / kind} and "
        f"{_INSTALLED / kind}; reinstall reportgen or point the definition's output at a "
        f"template folder")
