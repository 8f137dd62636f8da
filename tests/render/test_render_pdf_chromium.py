"""The Chromium PDF engine (engine: chromium), read back from the PDFs it writes and held
against WeasyPrint's PDF of the same model: pages, words, and the pages as pictures."""

from __future__ import annotations

import dataclasses
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from PIL import Image, ImageFilter
from support.benchmark_scripts import load_benchmark
from support.factories import sample_model
from support.paths import REPO

from reportgen.errors import InputError, TemplateError
from reportgen.render import RENDERERS, options_model
from reportgen.render.browser import EXECUTABLE_VARIABLE, BrowserMissingError, BrowserThread
from reportgen.render.pdf import render_pdf
from reportgen.render.pdf_chromium import render_pdf_chromium

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small report (three sections, charts, tables) printed by each engine."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run scripts/bootstrap-system.sh test")
    folder = tmp_path_factory.mktemp("engines")
    model = sample_model(table_rows=8, sections=3)
    return (Path(render_pdf(model, folder / "weasyprint.pdf").path),
            Path(render_pdf_chromium(model, folder / "chromium.pdf").path))


def _page_words(path: Path) -> list[list[str]]:
    """The words of each page, as pdfium reads them.  Not pdfminer (pdfplumber): Chromium
    embeds CFF-outline fonts (Inter as Debian ships it) as Type 3 fonts, and pdfminer reads
    the tabular digits set in them as private-use characters, where pdfium and poppler
    read digits."""
    document = pypdfium2.PdfDocument(path)
    try:
        pages = []
        for page in document:
            text = page.get_textpage()
            pages.append(re.findall(r"\w+", text.get_text_range()))
            text.close()
        return pages
    finally:
        document.close()


def _pictures(path: Path, dpi: int = 40) -> list[np.ndarray]:
    """Each page in grey, slightly blurred, so sub-pixel glyph placement does not count."""
    document = pypdfium2.PdfDocument(path)
    try:
        return [np.asarray(page.render(scale=dpi / 72).to_pil().convert("L")
                           .filter(ImageFilter.GaussianBlur(1.5)), dtype=np.int16)
                for page in document]
    finally:
        document.close()


def test_both_engines_print_the_same_pages_and_words(both: tuple[Path, Path]) -> None:
    weasy, chromium = both
    pages_a, pages_b = _page_words(weasy), _page_words(chromium)
    assert len(pages_a) == len(pages_b) >= 4
    for number, (words_a, words_b) in enumerate(zip(pages_a, pages_b, strict=True), 1):
        # the same words on the same page (the running header and footer, the contents'
        # numbers, every figure and sentence); floated numbers may be read out of order
        assert Counter(words_a) == Counter(words_b), f"page {number}"
    # page 1 held the contents' page numbers: Chromium's came from its own first print
    assert {"2", "3", "4", "5", "6"} <= set(pages_b[0])


def test_both_engines_draw_pages_that_look_alike(both: tuple[Path, Path]) -> None:
    weasy, chromium = both
    for number, (a, b) in enumerate(zip(_pictures(weasy), _pictures(chromium), strict=True), 1):
        if b.shape != a.shape:  # A4 in points rounds differently in each engine
            b = np.asarray(Image.fromarray(b.astype(np.uint8)).resize(a.shape[::-1]),
                           dtype=np.int16)
        differing = float((np.abs(a - b) > 48).mean())
        assert differing < 0.03, f"page {number}: {differing:.1%} of its pixels differ"
    # the check can fail: a page against the next one differs far more than that
    pages = _pictures(weasy)
    assert float((np.abs(pages[1] - pages[2]) > 48).mean()) > 0.03


def test_threads_share_the_process_browser(both: tuple[Path, Path], tmp_path: Path) -> None:
    """Web jobs render on their own threads: each gets its whole PDF from the one browser."""
    from concurrent.futures import ThreadPoolExecutor

    models = [sample_model(sections=n) for n in (1, 2, 3)]
    with ThreadPoolExecutor(3) as pool:
        paths = list(pool.map(lambda n: Path(render_pdf_chromium(
            models[n], tmp_path / f"{n}.pdf").path), range(3)))
    # one section more, one page more: no thread got another thread's page
    counts = [len(_page_words(path)) for path in paths]
    assert counts == [counts[0], counts[0] + 1, counts[0] + 2]
    assert counts[2] == len(_page_words(both[1]))


def test_running_strings_keep_quotes_and_backslashes(both: tuple[Path, Path],
                                                     tmp_path: Path) -> None:
    model = dataclasses.replace(sample_model(sections=1), organisation='Acme "Care" \\ Team')
    path = Path(render_pdf_chromium(model, tmp_path / "quoted.pdf").path)
    document = pypdfium2.PdfDocument(path)
    try:
        footer = document[1].get_textpage().get_text_range()
    finally:
        document.close()
    assert 'Acme "Care" \\ Team' in footer  # page 2's footer, set from the cover's string


def test_the_pdf_renderer_takes_the_engine_from_the_output() -> None:
    options = options_model(RENDERERS.get("pdf"))
    assert options.model_validate({"engine": "chromium"}).engine == "chromium"
    assert options.model_validate({}).engine == "weasyprint"
    with pytest.raises(ValueError, match="weasyprint"):
        options.model_validate({"engine": "firefox"})


def test_a_missing_chromium_names_the_engine_and_what_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(EXECUTABLE_VARIABLE, str(tmp_path / "no-chromium"))
    with pytest.raises(BrowserMissingError) as missing:
        BrowserThread().call(lambda browser: None)
    message = str(missing.value)
    assert "engine: chromium" in message and "apt-get install chromium" in message
    assert f"{EXECUTABLE_VARIABLE}={tmp_path / 'no-chromium'} is not an executable" in message
    assert isinstance(missing.value, InputError) and missing.value.exit_code == 2


def test_a_page_may_not_fetch_from_the_network(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "cover.html.j2").write_text(
        '<section class="cover"><img src="https://example.com/logo.png" alt="logo"></section>',
        encoding="utf-8")
    with pytest.raises(TemplateError, match="https://example.com/logo.png"):
        render_pdf_chromium(sample_model(sections=1), tmp_path / "out.pdf", template_dir=folder)
    assert not (tmp_path / "out.pdf").exists()


_POOL_RUN = """
import sys
from pathlib import Path
from reportgen.render.pdf_chromium import render_pdf_chromium
from reportgen.render.pool import render_all
sys.path.insert(0, {support!r})
from support.benchmark_scripts import load_benchmark
from support.factories import sample_model

def render(loaded, result, out_dir):
    return [render_pdf_chromium(sample_model(sections=1), out_dir / f"{{loaded}}.pdf")]

if __name__ == "__main__":
    rendered = render_all(render, [("a", None), ("b", None)], Path({out!r}), jobs=2)
    assert all(r.error is None for r in rendered), [r.error for r in rendered]
    render_pdf_chromium(sample_model(sections=1), Path({out!r}) / "here.pdf")
"""


@pytest.mark.long
@pytest.mark.skipif(sys.platform != "linux", reason="counts processes left behind (Linux)")
def test_no_chromium_is_left_running_after_a_pool_renders(tmp_path: Path) -> None:
    """Two render processes and the caller each start a browser; when the run ends, every
    one of them has gone (counted by measure.py, whose launcher adopts orphans)."""
    script = tmp_path / "pool_run.py"
    script.write_text(_POOL_RUN.format(support=str(REPO / "tests"), out=str(tmp_path)),
                      encoding="utf-8")
    run = load_benchmark("measure").run_once([sys.executable, str(script)], cwd=REPO)
    assert sorted(p.name for p in tmp_path.glob("*.pdf")) == ["a.pdf", "b.pdf", "here.pdf"]
    assert run.left_running == 0
