"""What several commands read from their arguments: the period, the settings file and the ledger.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path


def now_utc() -> datetime:
    return datetime.now(UTC)


def period_for(loaded, text: str | None):
    from reportgen.period import Period

    spec = loaded.definition.period
    if text:
        return Period.parse(text, spec.grain, spec.timezone)
    return Period.last_complete(now_utc(), spec.grain, spec.timezone)


def settings_from_args(args: argparse.Namespace):
    """Settings from --settings or $REPORTGEN_SETTINGS; the ledger defaults to the output folder."""
    import os

    from reportgen.settings import load_settings

    file = getattr(args, "settings", None) or os.environ.get("REPORTGEN_SETTINGS")
    settings = load_settings(Path(file) if file else None)
    ledger = getattr(args, "ledger", None)
    if ledger:
        settings = settings.model_copy(update={"ledger_url": ledger})
    elif not file and "REPORTGEN_LEDGER_URL" not in os.environ:
        out = Path(getattr(args, "out", None) or "out")
        settings = settings.model_copy(
            update={"ledger_url": f"sqlite:///{(out / 'reportgen-runs.sqlite').resolve()}"})
    return settings


def ledger_from_args(settings, out: str | None = None):
    """The settings' ledger; ``out`` (a command's --out) is where runs wrote, used to find
    files recorded with a path relative to another folder."""
    from reportgen.ledger.store import Ledger

    out_dir = Path(out).resolve() if out else settings.resolved_out_dir()
    return Ledger(settings.resolved_ledger_url(), out_dir=out_dir)


def add_ledger_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--settings", metavar="FILE",
                   help="settings YAML (SMTP, ledger); default $REPORTGEN_SETTINGS")
    p.add_argument("--ledger", metavar="URL",
                   help="run ledger URL (default: DIR/reportgen-runs.sqlite beside the reports)")
