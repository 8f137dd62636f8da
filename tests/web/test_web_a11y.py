"""Every page of the web page, in Chromium at 1280 px and at 390 px (a phone): a viewport
that fits the phone, a skip link and a main landmark, and axe-core finds no serious or
critical violation.  The confirmation before a send lists its recipients in the browser.

axe-core is bundled as a test fixture (tests/web/fixtures/axe-core: axe.min.js from the npm
package axe-core 4.14.1, gzipped, with its MPL-2.0 licence), so nothing is downloaded when
the suite runs.  The report document inside the preview is checked too: its theme's colours
as text (and the labels on them) read at 4.5:1, with the demo's themes and with a pale one.
Screenshots go to $REPORTGEN_SCREENSHOTS when set (else the test's folder).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from support.web_site import PASSWORDS, RECIPIENTS, make_config, serve

from reportgen.period import Period
from reportgen.plan import load_definition
from reportgen.run.runner import run_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).parent / "fixtures" / "axe-core" / "axe.min.js.gz"
WIDTHS = (1280, 390)


@pytest.fixture
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run scripts/bootstrap-system.sh test")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(tmp_path, demo_dir, smtp_server):
    config = make_config(tmp_path, demo_dir, smtp_server)
    running = serve(config)
    loaded = load_definition(config.definitions / "csat-mini.yaml")
    spec = loaded.definition.period
    run = run_report(loaded, Period.parse("2026-09", spec.grain, spec.timezone),
                     trigger="manual", ledger=running.app.state.ledger,
                     out_dir=config.settings.resolved_out_dir(), send=False,
                     smtp=config.settings.smtp, now=config.now)
    running.run_id = run.id
    yield running
    running.stop()


def _violations(page: Page) -> list[str]:
    if page.evaluate("typeof window.axe") == "undefined":
        page.add_script_tag(content=gzip.decompress(AXE.read_bytes()).decode("utf-8"))
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3)
                 .map(n => n.target.join(' ')).join(', '));
    }""")
    return list(found)


def test_every_page_fits_a_phone_and_axe_finds_nothing_serious(browser, site, tmp_path):
    shots = Path(os.environ.get("REPORTGEN_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    pages = {"reports": "/", "report": "/reports/csat-mini",
             "preview": "/reports/csat-mini/preview", "run": f"/runs/{site.run_id}",
             "confirm": f"/runs/{site.run_id}/send", "audit": "/audit",
             "run-log": "/reports/csat-mini/log",
             "preview-document": "/reports/csat-mini/preview/page?period=2026-09"}
    found: dict[str, list[str]] = {}
    for width in WIDTHS:
        # bypass_csp: axe is injected into the preview document, whose policy allows no script
        page = browser.new_page(viewport={"width": width, "height": 900}, bypass_csp=True)
        page.goto(site.url + "/login")
        found[f"login@{width}"] = _violations(page)
        page.screenshot(path=shots / f"login-{width}.png", full_page=True)
        page.get_by_label("Name").fill("root")
        page.get_by_label("Password").fill(PASSWORDS["root"])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Reports")).to_be_visible()
        for name, path in pages.items():
            page.goto(site.url + path)
            if name == "preview":
                frame = page.frame_locator("iframe[title='Report preview']")
                expect(frame.locator("body")).to_contain_text("Voice of the customer",
                                                              timeout=60_000)
            # laid out at the device's width, not a 980 px desktop page scaled down
            assert page.evaluate("window.innerWidth") == width, name
            # a wide table scrolls inside its frame; the page itself never scrolls sideways
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name
            assert page.locator("main").count() == 1, name
            if name != "preview-document":
                assert page.locator("a.skip[href='#main']").count() == 1, name
            found[f"{name}@{width}"] = _violations(page)
            page.screenshot(path=shots / f"{name}-{width}.png", full_page=True)
        page.close()
    assert {k: v for k, v in found.items() if v} == {}


def test_the_confirmation_lists_the_recipients_before_sending(browser, site, smtp_server):
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(site.url + "/login")
    page.get_by_label("Name").fill("ana")
    page.get_by_label("Password").fill(PASSWORDS["ana"])
    page.get_by_role("button", name="Sign in").click()
    page.goto(site.url + "/reports/csat-mini")
    row = page.locator(f"#run-{site.run_id}")
    expect(row.get_by_role("button", name="Approve…")).to_have_count(0)
    row.get_by_role("button", name="Send…").click()
    recipients = page.locator("#recipients")
    for address in RECIPIENTS:
        expect(recipients).to_contain_text(address)
    assert smtp_server.received == []
    page.get_by_role("button", name="Send to 2 recipients").click()
    expect(page.get_by_role("status")).to_contain_text(f"Sent run #{site.run_id} to 2 recipients")
    by_recipient = smtp_server.by_recipient()
    assert {r: len(by_recipient.get(r, [])) for r in RECIPIENTS} == {r: 1 for r in RECIPIENTS}


def test_the_report_documents_theme_colours_read_at_both_widths(browser, site, tmp_path):
    """The monthly report (warnings, findings, statuses in every tone) and a report themed
    in pale colours: axe finds no serious or critical violation (colour contrast included)
    in either preview document, at 1280 px or 390 px, each has one main landmark, and on a
    phone neither is wider than the screen."""
    import yaml

    shots = Path(os.environ.get("REPORTGEN_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    folder = site.app.state.config.definitions
    pale = yaml.safe_load((folder / "csat-mini.yaml").read_text(encoding="utf-8"))
    pale.update(id="csat-pale", title="CSAT Pale Report",
                theme={"primary": "#A9CCE3", "accent": "#F7DC6F"})
    (folder / "csat-pale.yaml").write_text(yaml.safe_dump(pale), encoding="utf-8")
    documents = {"mqr": "/reports/monthly-quality/preview/page?period=2026-09",
                 "pale": "/reports/csat-pale/preview/page?period=2026-09"}
    found: dict[str, list[str]] = {}
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 900}, bypass_csp=True)
        page.goto(site.url + "/login")
        page.get_by_label("Name").fill("vic")
        page.get_by_label("Password").fill(PASSWORDS["vic"])
        page.get_by_role("button", name="Sign in").click()
        for name, path in documents.items():
            response = page.goto(site.url + path, timeout=120_000)
            assert response is not None and response.ok, (name, response and response.status)
            assert page.evaluate("window.innerWidth") == width, name
            assert page.locator("main").count() == 1, name
            # the page's own column on a screen: nothing wider than the phone
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name
            found[f"{name}@{width}"] = _violations(page)
            page.screenshot(path=shots / f"document-{name}-{width}.png", full_page=True)
        page.close()
    assert {k: v for k, v in found.items() if v} == {}
