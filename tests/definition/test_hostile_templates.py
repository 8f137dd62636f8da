"""Templates, stylesheets and output names come with definitions: none of them may run code,
read a file outside its folder or write outside the output folder."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import pdfplumber
import pytest
from support.factories import sample_model

from reportgen.cli import main
from reportgen.definition.content_specs import OutputSpec
from reportgen.errors import OutputPathError, RenderError
from reportgen.render.files import file_in
from reportgen.render.pdf import render_pdf
from reportgen.report.model.report_model import ReportModel
from reportgen.run.build import output_path

SECRET = "CONFIDENTIAL-7c1e9b-NOT-FOR-REPORTS"


@functools.cache
def model() -> ReportModel:
    """A chartless model: these tests are about what templates may reach, not layout."""
    base = sample_model()
    return dataclasses.replace(
        base, sections=tuple(dataclasses.replace(s, figures=()) for s in base.sections))


def pdf_text(path: Path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


@pytest.fixture
def outside_secret(tmp_path: Path) -> Path:
    """A file outside every template folder that a report must never show."""
    private = tmp_path / "private"
    private.mkdir()
    secret = private / "secret.txt"
    secret.write_text(f"<p>{SECRET}</p>\n")
    return secret


@pytest.mark.slow
def test_a_template_cannot_reach_python_internals_to_run_commands(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    marker = tmp_path / "ran"
    (folder / "cover.html.j2").write_text(
        "<h1>{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}"
        "</h1>\n")
    out = tmp_path / "out" / "mqr.pdf"

    with pytest.raises(RenderError, match="sandbox") as raised:
        render_pdf(model(), out, template_dir=folder)

    assert not marker.exists(), "the template ran a shell command"
    assert "cover.html.j2" in str(raised.value)
    assert not out.exists()


@pytest.mark.slow
def test_a_template_cannot_call_unsafe_methods_through_the_model(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "cover.html.j2").write_text(
        "<h1>{{ model.__class__.__mro__[-1].__subclasses__() }}</h1>\n")

    with pytest.raises(RenderError, match="sandbox"):
        render_pdf(model(), tmp_path / "mqr.pdf", template_dir=folder)
    assert not (tmp_path / "mqr.pdf").exists()


@pytest.mark.slow
def test_a_template_symlinked_to_a_file_outside_its_folder_is_refused(
        tmp_path: Path, outside_secret: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "cover.html.j2").symlink_to(outside_secret)
    out = tmp_path / "out" / "mqr.pdf"

    with pytest.raises(RenderError, match="outside the template folder"):
        render_pdf(model(), out, template_dir=folder)
    assert not out.exists()


@pytest.mark.slow
def test_an_include_of_a_symlink_out_of_the_folder_is_refused(
        tmp_path: Path, outside_secret: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "notes.html.j2").symlink_to(outside_secret)
    (folder / "report.html.j2").write_text(
        '{% extends "builtin/report.html.j2" %}\n'
        '{% block appendix %}{% include "notes.html.j2" %}{% endblock %}\n')
    out = tmp_path / "mqr.pdf"

    with pytest.raises(RenderError, match="outside the template folder"):
        render_pdf(model(), out, template_dir=folder)
    assert not out.exists()


@pytest.mark.slow
def test_a_template_inside_its_folder_still_renders(tmp_path: Path) -> None:
    """The check is on where a file leads, so a link that stays inside is fine."""
    folder = tmp_path / "templates"
    (folder / "parts").mkdir(parents=True)
    (folder / "parts" / "notes.html.j2").write_text("<p>Questions: quality@acme.example</p>\n")
    (folder / "notes.html.j2").symlink_to(folder / "parts" / "notes.html.j2")
    (folder / "report.html.j2").write_text(
        '{% extends "builtin/report.html.j2" %}\n'
        '{% block appendix %}{{ super() }}<section class="appendix">'
        '{% include "notes.html.j2" %}</section>{% endblock %}\n')
    out = tmp_path / "mqr.pdf"

    render_pdf(model(), out, template_dir=folder)

    assert "Questions: quality@acme.example" in pdf_text(out)


@pytest.mark.slow
def test_a_stylesheet_symlinked_out_of_its_folder_is_refused(
        tmp_path: Path, outside_secret: Path) -> None:
    brand = tmp_path / "brand"
    brand.mkdir()
    sheet = brand / "brand.css"
    sheet.symlink_to(outside_secret)

    with pytest.raises(RenderError, match="outside its folder"):
        render_pdf(model(), tmp_path / "mqr.pdf", stylesheets=[sheet])
    assert not (tmp_path / "mqr.pdf").exists()


@pytest.mark.slow
def test_an_image_symlinked_out_of_the_template_folder_is_not_fetched(
        tmp_path: Path, outside_secret: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "logo.svg").symlink_to(outside_secret)
    (folder / "overrides.css").write_text(".cover-band { background: url(logo.svg); }\n")

    with pytest.raises(RenderError, match="logo.svg"):
        render_pdf(model(), tmp_path / "mqr.pdf", template_dir=folder)
    assert not (tmp_path / "mqr.pdf").exists()


# ---------- output file names ----------


@pytest.mark.parametrize("name", ["../x.pdf", "../../etc/x.pdf", "/tmp/x.pdf", "a/b.pdf",
                                  "..", "", "a\\..\\b.pdf", "x\x00.pdf"])
def test_output_names_that_leave_the_output_folder_are_refused(tmp_path: Path,
                                                               name: str) -> None:
    with pytest.raises(OutputPathError):
        file_in(tmp_path / "out", name)


def test_output_path_never_leaves_the_output_folder(tmp_path: Path) -> None:
    from reportgen.definition import load_definition

    definition = load_definition(_valid_definition(tmp_path)).definition
    out = tmp_path / "out"
    good = output_path(out, definition.id, OutputSpec(format="pdf"), "2026-10")
    assert good == out / "mqr-2026-10.pdf"
    for name in ("../escaped-{period}.{ext}", str(tmp_path / "abs.{ext}"), "{nope}.pdf"):
        # model_construct skips validation, as a plugin's own loader might
        spec = OutputSpec.model_construct(format="pdf", filename=name)
        with pytest.raises(OutputPathError):
            output_path(out, definition.id, spec, "2026-10")


@pytest.mark.parametrize("filename,found", [
    ("../x.pdf", "folders"), ("/tmp/{report}.{ext}", "folders"), ("", "empty"),
    ("{nope}.pdf", "unknown placeholder {nope}"), ("{report.__class__}.pdf", "unknown placeholder"),
    ("{report", "not a valid name template"), ("..", "must be a file name"),
])
def test_validate_refuses_output_names_with_their_location(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], filename: str, found: str) -> None:
    path = _valid_definition(tmp_path, f"outputs:\n  - format: pdf\n    filename: '{filename}'\n")

    assert main(["validate", str(path)]) == 2

    err = capsys.readouterr().err
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1)
                if text.strip().startswith("filename:"))
    assert f"{path}:{line}:" in err and "outputs[0].filename" in err and found in err, err


def test_a_file_name_with_a_huge_format_width_is_refused_without_being_formatted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """'{ext:>999999999}' would be a gigabyte-long name: validate refuses it at its line at
    once, and the attachment check does not build the name to look at it."""
    import time

    path = _valid_definition(tmp_path, (
        "outputs:\n  - format: pdf\n    filename: '{ext:>999999999}'\n"
        "delivery:\n  email:\n    to: [a@example.com]\n    attach: [pdf]\n"))

    started = time.monotonic()
    status = main(["validate", str(path)])
    elapsed = time.monotonic() - started

    err = capsys.readouterr().err
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1)
                if text.strip().startswith("filename:"))
    assert status == 2 and f"{path}:{line}:" in err and "outputs[0].filename" in err, err
    assert elapsed < 5, f"validate took {elapsed:.1f}s"


@pytest.mark.parametrize("title,found", [
    ("{title} for {queue}", "unknown placeholder '{queue}'"),
    ("{segment.__class__}", "unknown placeholder '{segment.__class__}'"),
    ("{title", "not a valid template"),
])
def test_validate_refuses_a_fan_out_title_it_cannot_fill_in_with_its_location(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], title: str, found: str) -> None:
    path = _valid_definition(tmp_path, f"fan_out:\n  by: queue\n  title: '{title}'\n")

    assert main(["validate", str(path)]) == 2

    err = capsys.readouterr().err
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1)
                if text.strip().startswith("title: '"))
    assert f"{path}:{line}:" in err and "fan_out.title" in err and found in err, err


def _valid_definition(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "mqr.yaml"
    path.write_text(
        "id: mqr\ntitle: Monthly Quality Report\n"
        "sources:\n  tickets: {kind: csv, path: tickets.csv, time_column: created_at}\n"
        "metrics:\n  - {id: tickets, calculator: volume, source: tickets}\n"
        "sections:\n  - {id: overview, title: Overview, kpis: [tickets]}\n" + extra,
        encoding="utf-8")
    return path


def test_a_refused_template_exits_2_with_the_template_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tickets.csv").write_text(
        "id,created_at\n" + "".join(f"{i},2026-10-{1 + i % 28:02d} 10:00:00\n" for i in range(30)),
        encoding="utf-8")
    folder = tmp_path / "brand"
    folder.mkdir()
    (folder / "cover.html.j2").write_text("<h1>{{ cycler.__init__.__globals__ }}</h1>\n")
    path = _valid_definition(tmp_path, "outputs:\n  - {format: pdf, template: brand}\n")

    status = main(["run", str(path), "--period", "2026-10", "--out", str(tmp_path / "out")])

    err = capsys.readouterr().err
    assert status == 2, err
    assert "PDF template refused" in err and "cover.html.j2" in err and "Traceback" not in err
    assert not list((tmp_path / "out").rglob("*.pdf"))


def test_validate_refuses_a_theme_font_that_could_break_the_stylesheet(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _valid_definition(tmp_path, "theme:\n  font_family: 'Inter; } body { display: none'\n")

    assert main(["validate", str(path)]) == 2

    err = capsys.readouterr().err
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1)
                if "font_family" in text)
    assert f"{path}:{line}:" in err and "theme.font_family" in err, err
