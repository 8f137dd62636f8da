from __future__ import annotations

import os
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

#: the last month of the demo data used by the suite (fixed so tests never depend on today)
DEMO_END = date(2026, 10, 1)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeded demo data (13 months ending October 2026), generated once per test session."""
    from reportgen.demo import generate_demo_data

    out = tmp_path_factory.mktemp("demo")
    generate_demo_data(out, seed=7, end_month=DEMO_END, months=13)
    return out


@pytest.fixture
def write_definition(tmp_path: Path):
    """Write a YAML definition (dedented) into the test's folder and return its path."""

    def write(text: str, name: str = "report.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture(autouse=True)
def _quiet_matplotlib_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("MPLCONFIGDIR", str(tmp_path_factory.getbasetemp() / "mpl"))
