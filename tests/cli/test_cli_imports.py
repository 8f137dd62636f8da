"""Commands that only read a definition or the ledger start fast: they never load the heavy
libraries a run needs (checked in a fresh interpreter, as a user's shell would start it)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.paths import REPO

HEAVY = {"scipy", "matplotlib", "pandas", "statsmodels", "sqlalchemy", "duckdb", "weasyprint",
         "pptx", "numpy"}


def loaded_after(args: list[str], cwd: Path) -> set[str]:
    script = textwrap.dedent(f"""
        import json, sys
        from reportgen.cli import main
        try:
            main({args!r})
        except SystemExit:
            pass
        print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules
                                 if type(sys.modules[m]).__name__ != '_LazyModule'}})))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [
    ["validate", str(REPO / "configs" / "monthly_quality_report.yaml")],
    ["schema"],
    ["--help"],
])
def test_reading_commands_do_not_load_the_run_stack(args, tmp_path):
    assert loaded_after(args, tmp_path) & HEAVY == set()


def test_history_loads_the_ledger_driver_but_not_the_analysis_stack(tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"ledger_url: sqlite:///{tmp_path / 'runs.sqlite'}\n", encoding="utf-8")
    loaded = loaded_after(["history", "--settings", str(settings)], tmp_path)
    assert "sqlalchemy" in loaded  # the check can tell a loaded module from a lazy one
    assert loaded & (HEAVY - {"sqlalchemy"}) == set()
