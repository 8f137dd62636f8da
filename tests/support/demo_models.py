"""Report models built from the seeded demo data with the example definitions, built once.

Several test files read the same demo report in different outputs; building its model
(a full data pass) once per process keeps them from repeating the work.
"""

from __future__ import annotations

import functools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from reportgen.definition import LoadedDefinition, load_definition
from reportgen.period import Period
from reportgen.report.model.report_model import ReportModel
from reportgen.run.build import BuildResult, build_report

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 10, 2, 7, 0, tzinfo=UTC)


def demo_definition(demo_dir: Path, config: str, *, locale: str | None = None,
                    outputs: str | None = None) -> LoadedDefinition:
    """An example definition from configs/, laid out so ../out/demo is the demo data.

    ``locale`` and ``outputs`` (a YAML flow list) replace the definition's own settings.
    """
    root = Path(tempfile.mkdtemp(prefix="reportgen-demo-"))
    (root / "configs").mkdir()
    (root / "out").mkdir()
    (root / "out" / "demo").symlink_to(demo_dir, target_is_directory=True)
    lines = (REPO / "configs" / config).read_text(encoding="utf-8").splitlines()
    if outputs is not None:
        start = lines.index("outputs:")
        end = start + 1
        while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
            end += 1
        lines[start:end] = [f"outputs: {outputs}", ""]
    if locale is not None:
        title = next(i for i, line in enumerate(lines) if line.startswith("title:"))
        lines.insert(title + 1, f"locale: {locale}")
    target = root / "configs" / config
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_definition(target)


@functools.lru_cache(maxsize=8)
def demo_build(demo_dir: Path, config: str, period_key: str, locale: str | None = None,
               outputs: str | None = None) -> tuple[LoadedDefinition, BuildResult]:
    """The definition and its build for ``period_key`` (cached per arguments)."""
    loaded = demo_definition(demo_dir, config, locale=locale, outputs=outputs)
    spec = loaded.definition.period
    period = Period.parse(period_key, spec.grain, spec.timezone)
    return loaded, build_report(loaded, period, now=NOW)


def demo_model(demo_dir: Path, config: str, period_key: str,
               locale: str | None = None) -> ReportModel:
    return demo_build(demo_dir, config, period_key, locale)[1].model
