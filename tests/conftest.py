from __future__ import annotations

import os
import textwrap
from datetime import date
from pathlib import Path

import pytest
from support.paths import REPO

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


#: the session's costly builds and the tests reading them, by file (or one test, by its
#: id): they run on one worker, which builds each once
SHARED_BUILDS = (
    ("demo-fanout", ("run/test_fanout.py",
                     "report/test_claims.py::test_every_queue_report_of_the_fan_out")),
    ("demo-reports", tuple(f"{folder}/test_{name}.py" for folder, names in (
        ("report", ("readout_outputs", "text_outputs", "claims", "editorial", "plain_words",
                    "action_scope", "scorecard")),
        ("render", ("deck_messages", "deck_demo", "render_xlsx")),
        ("run", ("pipeline",)),
        ("delivery", ("scorecard_chat", "scorecard_email")),
        ("demo", ("did_demo", "qa_programme_demo", "qa_programme_stories"))) for name in names)),
)


def group_of(nodeid: str) -> str:
    """The unit one worker runs whole and in order: a shared build's tests (``SHARED_BUILDS``),
    else the tests of one file, so a module's fixtures are made once (a worker switching
    files between two tests of one would tear them down and make them again)."""
    where = nodeid.removeprefix("tests/")
    for name, prefixes in SHARED_BUILDS:
        if any(where == p or where.startswith(p + ("" if ".py::" in p else "::"))
               for p in prefixes):
            return name
    return where.split("::", 1)[0]


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """``make test`` runs on two workers, handing out whole groups (``group_of``) in the
    order of the collection below."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    config.option.loadscopereorder = False
    return GroupScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Groups are handed out in this order: the shared builds, then files with a test
    marked ``long`` (long tests first), then the rest, so no long group ends the run on one
    core while the other idles."""
    groups = {id(item): group_of(item.nodeid) for item in items}
    shared = [name for name, _ in SHARED_BUILDS]
    long = {groups[id(item)] for item in items if item.get_closest_marker("long")}
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        first.setdefault(groups[id(item)], index)

    def rank(item: pytest.Item) -> tuple[int, int, int]:
        group = groups[id(item)]
        tier = shared.index(group) if group in shared else len(shared) + (group not in long)
        return tier, first[group], item.get_closest_marker("long") is None

    items.sort(key=rank)
