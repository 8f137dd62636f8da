"""Errors in plain words: a viewer reads what went wrong without Python's exception names or
the server's absolute paths (a file in the definitions folder is named relative to it, one
elsewhere by its name); an admin also gets the error as recorded, behind a disclosure.

Screenshots go to $REPORTGEN_SCREENSHOTS when set (else the test's folder).
"""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from playwright.sync_api import expect
from test_web_browser import _sign_in, browser, shots, site  # noqa: F401 (fixtures)

from reportgen.run.failures import record_failure


def _failed_job(running) -> tuple[int, int, Path]:
    """A regeneration whose render processes broke, as the run core records it."""
    config = running.app.state.config
    ledger = running.app.state.ledger
    pdf = config.settings.resolved_out_dir() / "csat-mini" / "2026-09" / "run-1" / "csat.pdf"
    definition = config.definitions / "csat-mini.yaml"

    def work(sink):
        run_id = ledger.start_run("csat-mini", "2026-09", trigger="manual",
                                  definition_hash="h", code_version="t")
        try:
            raise BrokenProcessPool(f"A process in the process pool was terminated abruptly "
                                    f"while rendering {pdf} for {definition}")
        except BrokenProcessPool as exc:
            record_failure(ledger, run_id, exc, "render")
        record = ledger.get_run(run_id)
        return run_id, record.status, record.error

    job = running.app.state.jobs.submit("regenerate", "csat-mini", "2026-09", "ana", work)
    assert running.app.state.jobs.finished[job.id].wait(30)
    done = running.app.state.jobs.get(job.id)
    assert done.state == "finished" and "BrokenProcessPool" in done.error
    assert str(pdf) in done.error  # recorded as it happened
    return job.id, done.run_id, pdf


def test_a_viewer_reads_a_failed_job_in_plain_words_and_an_admin_sees_the_detail(
        browser, site, shots):  # noqa: F811 (fixtures)
    job_id, run_id, pdf = _failed_job(site)
    server_paths = (str(pdf.parent), str(site.app.state.config.definitions))

    viewer = _sign_in(browser, site.url, "vic")
    for path in (f"/jobs/{job_id}", f"/runs/{run_id}", "/reports/csat-mini"):
        viewer.goto(site.url + path)
        main = viewer.locator("main")
        expect(main).to_contain_text("A process drawing the report's files stopped "
                                     "unexpectedly")
        seen = viewer.content()
        assert "BrokenProcessPool" not in seen and "Error:" not in seen, path
        assert not [p for p in server_paths if p in seen], path
        expect(viewer.locator("details")).to_have_count(0)
    # an invalid definition is located relative to the definitions folder
    viewer.goto(site.url + "/")
    broken = viewer.locator('tr[data-report="broken"]')
    expect(broken).to_contain_text("broken.yaml:")
    assert str(site.app.state.config.definitions) not in broken.inner_html()
    viewer.goto(site.url + f"/jobs/{job_id}")
    viewer.screenshot(path=shots / "16-job-failed-viewer.png", full_page=True)
    polled = viewer.request.get(site.url + f"/jobs/{job_id}.json").json()
    assert "BrokenProcessPool" not in polled["error"] and "error_detail" not in polled

    admin = _sign_in(browser, site.url, "root")
    admin.goto(site.url + f"/jobs/{job_id}")
    detail = admin.locator("#job-error details")
    expect(detail.locator("pre")).not_to_be_visible()  # closed until asked for
    detail.get_by_text("Technical detail").click()
    expect(detail.locator("pre")).to_be_visible()
    expect(detail.locator("pre")).to_contain_text("BrokenProcessPool: A process in the process "
                                                  f"pool was terminated abruptly while "
                                                  f"rendering {pdf}")
    admin.screenshot(path=shots / "17-job-failed-admin.png", full_page=True)
    admin.goto(site.url + f"/runs/{run_id}")
    expect(admin.locator("#run-error details pre")).to_contain_text("BrokenProcessPool")
    polled = admin.request.get(site.url + f"/jobs/{job_id}.json").json()
    assert "BrokenProcessPool" in polled["error_detail"]


def test_recorded_errors_read_in_plain_words(tmp_path):
    from reportgen.web.plain_errors import explain

    definitions = tmp_path / "configs"
    definitions.mkdir()
    out = tmp_path / "reports" / "csat-mini" / "run-3" / "csat.pdf"
    cases = {
        f"approve by alex not sent: FileNotFoundError: [Errno 2] No such file or directory: "
        f"'{out}'": "approve by alex not sent: a file it needs is missing (csat.pdf).",
        f"InputError: {definitions}/team/csat.yaml:4:3 metrics[0]: unknown calculator 'x'":
            "team/csat.yaml:4:3 metrics[0]: unknown calculator 'x'",
        "KeyError: 'queue'":
            "An internal error; an administrator can see the technical detail.",
        "not delivered to a@example.com (failed_permanent: SMTPRecipientsRefused: 550 no "
        "such user); b@example.com (failed_transient: ConnectionRefusedError: [Errno 111] "
        "Connection refused)":
            "not delivered to a@example.com (failed_permanent: the mail server refused the "
            "message); b@example.com (failed_transient: a server it needs refused the "
            "connection)",
        "interrupted (KeyboardInterrupt)": "interrupted (the process was stopped)",
        f"no report 'x' in {definitions}": "no report 'x' in the definitions folder",
    }
    for recorded, plain in cases.items():
        said = explain(recorded, definitions)
        assert (said.plain, said.detail) == (plain, recorded)
    # what is already plain is left as it is, the page's own addresses too
    for already in ("needs role admin", "/runs/5/approve", "see https://x.example.com/runs/5"):
        said = explain(already, definitions)
        assert (said.plain, said.detail) == (already, None)
