from __future__ import annotations

import os
import textwrap
from datetime import date
from pathlib import Path

import pytest
from support.paths import REPO

TESTS = Path(__file__).resolve().parent

# fixtures every folder of the suite may use (servers on loopback, ledgers, a demo)
pytest_plugins = ["support.conftest_delivery", "support.postgres", "support.ledger_backends"]

#: the last month of the demo data used by the suite (fixed so tests never depend on today)
DEMO_END = date(2026, 9, 1)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeded demo data (13 months ending September 2026, as `make demo`), generated once per test session."""
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


# Every report the suite builds has its sentences checked against its model
# (reportgen.report.claims): a number that is not traceable fails the test that built it.
os.environ["REPORTGEN_STRICT_CLAIMS"] = "1"


@pytest.fixture(autouse=True)
def _quiet_matplotlib_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("MPLCONFIGDIR", str(tmp_path_factory.getbasetemp() / "mpl"))


@pytest.fixture
def example_config(tmp_path: Path, demo_dir: Path):
    """Copy an example definition from configs/ into a layout where ../out/demo is the demo data."""

    def copy(name: str) -> Path:
        configs = tmp_path / "configs"
        configs.mkdir(exist_ok=True)
        (tmp_path / "out").mkdir(exist_ok=True)
        link = tmp_path / "out" / "demo"
        if not link.exists():
            link.symlink_to(demo_dir, target_is_directory=True)
        target = configs / name
        target.write_bytes((REPO / "configs" / name).read_bytes())
        return target

    return copy


@pytest.fixture(scope="session")
def demo_mqr_outputs(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The example monthly report for September 2026, built and rendered (as its definition
    says: PDF and XLSX) once per session: (model, the PDF's path, the XLSX's path).  The
    build is ``support.demo_models.demo_build``'s, which tests building the same report
    share."""
    from support.demo_models import demo_build

    from reportgen.run.build import render_outputs

    loaded, result = demo_build(demo_dir, "monthly_quality_report.yaml", "2026-09")
    root = tmp_path_factory.mktemp("demo-mqr")
    artifacts = {a.format: Path(a.path) for a in render_outputs(loaded, result, root / "render")}
    return result.model, artifacts["pdf"], artifacts["xlsx"]


@pytest.fixture(scope="session")
def demo_mqr_pdf(demo_mqr_outputs):
    """The example monthly report for September 2026, built and rendered once per session:
    (model, the PDF's path)."""
    model, pdf, _ = demo_mqr_outputs
    return model, pdf


@pytest.fixture(scope="session")
def demo_mqr_xlsx(demo_mqr_outputs):
    """The example monthly report's workbook, from the same build as its PDF:
    (model, the XLSX's path)."""
    model, _, xlsx = demo_mqr_outputs
    return model, xlsx


@pytest.fixture(scope="session")
def demo_mqr(demo_mqr_pdf):
    """The example monthly report for September 2026: (model, the PDF's text page by page)."""
    import pdfplumber

    model, path = demo_mqr_pdf
    with pdfplumber.open(path) as document:
        pages = [page.extract_text() or "" for page in document.pages]
    return model, pages


@pytest.fixture(scope="session")
def demo_qbr_outputs(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Path:
    """The example quarterly review (configs/qbr.yaml) for 2026-Q3, rendered as its
    definition says (deck and PDF) once per session: the folder holding them.  The build is
    ``support.demo_models.demo_build``'s, shared with the tests reading its model."""
    from support.demo_models import demo_build

    from reportgen.run.build import render_outputs

    loaded, result = demo_build(demo_dir, "qbr.yaml", "2026-Q3")
    out = tmp_path_factory.mktemp("qbr")
    render_outputs(loaded, result, out)
    return out


@pytest.fixture(scope="session")
def demo_fanout(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path):
    """The example per-queue report (configs/mqr_by_queue.yaml) for September 2026, built
    once per session from one data pass: (definition, FanOutBuild), charts not drawn."""
    from datetime import UTC, datetime

    from reportgen.data.result_cache import clear_cache
    from reportgen.period import Period
    from reportgen.plan import load_definition
    from reportgen.run.build import build_fanout

    root = tmp_path_factory.mktemp("fan")
    (root / "out").mkdir()
    (root / "out" / "demo").symlink_to(demo_dir, target_is_directory=True)
    (root / "configs").mkdir()
    for name in ("mqr_by_queue.yaml", "queue_owners.csv"):
        (root / "configs" / name).write_bytes((REPO / "configs" / name).read_bytes())
    loaded = load_definition(root / "configs" / "mqr_by_queue.yaml")
    spec = loaded.definition.period
    clear_cache()
    return loaded, build_fanout(loaded, Period.parse("2026-09", spec.grain, spec.timezone),
                                now=datetime(2026, 10, 2, 7, 0, tzinfo=UTC),
                                domains=["example.com"])


@pytest.fixture(scope="session")
def demo_fanout_drawn(demo_fanout):
    """Every queue report of ``demo_fanout`` that built, with its charts drawn (their
    captions checked against the model as they are placed): [(SegmentBuild, BuildResult)]."""
    _, built = demo_fanout
    return [(s, s.result.drawn()) for s in built.segments if s.result is not None]


#: the session's costly builds, and the fixtures that reach them or the test files that
#: build them (``support.demo_models.demo_build``): a test using one runs on the worker that
#: builds it, so no build is made twice in a run
SHARED_BUILDS = (
    ("demo-reports", ("demo_mqr_outputs", "demo_qbr_outputs"),
     ("report/test_readout_outputs.py", "report/test_text_outputs.py", "report/test_claims.py",
      "render/test_deck_messages.py", "run/test_pipeline.py")),
    ("demo-fanout", ("demo_fanout",), ()),
)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order and group the tests for two workers (``make test``: ``-n 2 --dist loadgroup
    --no-loadscope-reorder``).

    Each test is in one group, which one worker runs whole and in order: the tests sharing
    a costly build (``SHARED_BUILDS``), else the tests of one file, so a module's fixtures
    are made once (a worker switching files between two tests of one would tear them down
    and make them again).  Groups are handed out in this order: the shared builds, then
    files with a test marked ``long``, then the rest, so no long group ends the run on one
    core while the other idles."""
    groups: dict[int, str] = {}
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        where = item.path.relative_to(TESTS).as_posix()
        groups[id(item)] = next((name for name, fixtures, _ in SHARED_BUILDS
                                 if used.intersection(fixtures)), None) \
            or next((name for name, _, files in SHARED_BUILDS if where in files), where)
        item.add_marker(pytest.mark.xdist_group(groups[id(item)]))
    shared = [name for name, _, _ in SHARED_BUILDS]
    long = {groups[id(item)] for item in items if item.get_closest_marker("long")}
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        first.setdefault(groups[id(item)], index)

    def rank(item: pytest.Item) -> tuple[int, int, int]:
        group = groups[id(item)]
        tier = shared.index(group) if group in shared else len(shared) + (group not in long)
        return tier, first[group], item.get_closest_marker("long") is None

    items.sort(key=rank)
