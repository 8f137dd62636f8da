"""Printing a self-contained page with this process's Chromium, filling in the two things of
CSS Paged Media that Chromium does not do.

Chromium prints CSS page-margin boxes with ``counter(page)`` and ``counter(pages)``, but not:

* ``string-set: NAME content()`` and ``string(NAME)`` (the running header and footer):
  each ``string(NAME)`` becomes the text of the first element its rule matches;
* ``target-counter(attr(href), page)`` (the contents' page numbers): the page is printed
  once with nothing painted, the page of each link's target read from the PDF's named
  destinations, and printed again with the numbers in place (``leader()`` becomes a
  number floated to the right).

The page runs no scripts of its own and is offline: a request leaving it fails the print.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from reportgen.errors import RenderError, TemplateError
from reportgen.render.browser import BROWSER

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["PRINT_OPTIONS", "chromium_pdf", "destination_pages"]

#: Page size and margins come from the stylesheet's @page rules, as in WeasyPrint.
PRINT_OPTIONS: dict[str, Any] = {"prefer_css_page_size": True, "print_background": True,
                                 "tagged": True, "outline": True}

#: Passes at most: the first finds the pages, the next ones print them (the numbers could
#: in principle move what follows them, so the pages are checked again).
_MAX_PASSES = 3

# Run in the page before printing: the running strings and the links' page numbers.
_PREPARE = r"""
() => {
  const quote = (s) => '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  const styles = [...document.querySelectorAll('style')];
  const values = {};
  for (const style of styles) {
    const css = style.textContent.replace(/\/\*[\s\S]*?\*\//g, '');
    for (const rule of css.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
      const set = /string-set\s*:\s*([-\w]+)\s+content\(\s*\)/.exec(rule[2]);
      if (!set || set[1] in values) continue;
      let element = null;
      try { element = document.querySelector(rule[1].trim()); } catch (e) { continue; }
      if (element) values[set[1]] = element.textContent.trim().replace(/\s+/g, ' ');
    }
  }
  let targets = false;
  const counter = /content\s*:([^;{}]*)target-counter\(\s*attr\(\s*href\s*\)\s*,\s*page\s*\)([^;{}]*)/g;
  for (const style of styles) {
    style.textContent = style.textContent
      .replace(/string\(\s*([-\w]+)\s*\)/g, (_, name) => quote(values[name] || ''))
      .replace(counter, (_, before, after) => {
        targets = true;
        const leader = /leader\([^)]*\)/;
        const floated = leader.test(before + after) ? '; float: right' : '';
        const strip = (s) => s.replace(new RegExp(leader, 'g'), '');
        return 'content:' + strip(before) + 'attr(data-target-page)' + strip(after) + floated;
      });
  }
  return targets;
}
"""

_HIDE = """
(hide) => {
  const style = document.getElementById('reportgen-layout-only');
  if (!hide) { if (style) style.remove(); return; }
  const sheet = document.createElement('style');
  sheet.id = 'reportgen-layout-only';
  sheet.textContent = 'body, body * { visibility: hidden !important; }';
  document.head.append(sheet);
}
"""

_NUMBER_LINKS = """
(pages) => {
  for (const link of document.querySelectorAll('a[href^="#"]')) {
    const page = pages[decodeURIComponent(link.getAttribute('href').slice(1))];
    if (page !== undefined) link.setAttribute('data-target-page', String(page));
  }
}
"""


def chromium_pdf(page_html: str, report_id: str) -> bytes:
    """A self-contained page printed by this process's Chromium, paged-media strings and
    link page numbers filled in."""
    printing = BROWSER.submit(lambda browser: _print(browser, page_html, report_id))
    if "target-counter(" in page_html:
        import pypdf  # noqa: F401  (read by destination_pages; loads while Chromium works)
    return printing.result()


#: The page the browser prints on, reused from one report to the next (a new page costs
#: a few tenths of a second); touched only on the browser's thread.
_reused: tuple[Browser, Page, list[str]] | None = None


def _page(browser: Browser) -> tuple[Page, list[str]]:
    """The browser's printing page, and the list its refused requests go to: no scripts of
    its own, no network, so all the page shows is the document it is given."""
    global _reused
    if _reused is None or _reused[0] is not browser or _reused[1].is_closed():
        context = browser.new_context(java_script_enabled=False, offline=True)
        page = context.new_page()
        refused: list[str] = []
        page.on("requestfailed", lambda request: refused.append(request.url))
        _reused = (browser, page, refused)
    return _reused[1], _reused[2]


def _print(browser: Browser, page_html: str, report_id: str) -> bytes:
    page, refused = _page(browser)
    refused.clear()
    page.set_content(page_html, wait_until="load")
    if refused:
        raise TemplateError(f"PDF for '{report_id}' not written: reports may only use "
                            f"template files and data: URLs, not {', '.join(refused[:3])}")
    if page.evaluate(_PREPARE):
        return _paged(page, report_id)
    return page.pdf(**PRINT_OPTIONS)


def _paged(page: Page, report_id: str) -> bytes:
    """Print until each link's page number is the page its target lands on."""
    # The first pass only finds the pages: nothing is painted (hidden boxes keep their
    # place and their destinations) and nothing tagged, which makes it cheaper.
    page.evaluate(_HIDE, True)
    numbers = destination_pages(page.pdf(prefer_css_page_size=True))
    page.evaluate(_HIDE, False)
    for _ in range(_MAX_PASSES - 1):
        page.evaluate(_NUMBER_LINKS, numbers)
        data = page.pdf(**PRINT_OPTIONS)
        found = destination_pages(data)
        if found == numbers:
            return data
        numbers = found
    raise RenderError(f"PDF for '{report_id}' not written: the contents' page numbers "
                      f"did not settle after {_MAX_PASSES} passes")


def destination_pages(data: bytes) -> dict[str, int]:
    """The page (from 1) of each named destination (an element id) in a PDF."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    pages = {}
    for name, dest in reader.named_destinations.items():
        number = reader.get_destination_page_number(dest)
        if number is not None:
            pages[str(name).lstrip("/")] = number + 1
    return pages


