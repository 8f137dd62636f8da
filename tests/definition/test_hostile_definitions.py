"""Broken and hostile definition files: each is refused with file:line:col, quickly, and
what validates is what ``run`` and the scheduler can use."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reportgen.cli import main
from reportgen.definition import load_definition
from reportgen.definition.yaml_loader import MAX_ALIASES, MAX_DEPTH
from reportgen.errors import DefinitionError

GOOD = """\
id: mqr
title: Monthly Quality Report
owner: qa-lead@example.com
period: {grain: month, timezone: Europe/Berlin}
sources:
  csat:
    kind: csv
    path: csat.csv
    time_column: responded_at
    columns: {rating: int, queue: str}
metrics:
  - id: csat
    calculator: csat
    source: csat
    params: {column: rating}
    by: [queue]
    target: 0.85
sections:
  - id: voc
    title: Voice of the customer
    kpis: [csat]
schedule:
  cron: "0 7 2 * *"
  grace_minutes: 1440
"""


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "report.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    return [str(p) for p in info.value.problems]


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_the_base_definition_is_valid(tmp_path: Path) -> None:
    assert load_definition(write(tmp_path, GOOD)).definition.schedule is not None


# ---------- the loader's bounds ----------


def test_a_billion_laughs_file_is_refused_at_once(tmp_path: Path) -> None:
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True))
    path = write(tmp_path, bomb)
    assert len(bomb) < 500

    started = time.perf_counter()
    (problem,) = refused(path)
    elapsed = time.perf_counter() - started

    assert elapsed < 1, f"took {elapsed:.2f}s"
    assert problem.startswith(f"{path}:") and "expands to more than" in problem
    assert f"{path}:{line_of(path, 'f: &f')}:" in problem  # where the budget ran out


def test_more_aliases_than_the_budget_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "x-one: &one 1\nx-many: [" +
                 ", ".join(["*one"] * (MAX_ALIASES + 1)) + "]\n")
    (problem,) = refused(path)
    assert f"{path}:{line_of(path, 'x-many')}:" in problem and "aliases" in problem


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    text = GOOD.replace("    columns: {rating: int, queue: str}",
                        "    columns: &cols {rating: int, queue: str}")
    text = text.replace("    kpis: [csat]", "    kpis: [csat]\n    notes: &n [a, b]\n"
                                           "  - {id: more, title: More, notes: *n}")
    assert load_definition(write(tmp_path, text)).definition.sections[1].notes == ["a", "b"]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000])
def test_deep_nesting_is_refused_with_its_line(tmp_path: Path, depth: int) -> None:
    path = write(tmp_path, GOOD + "x-deep: " + "[" * depth + "]" * depth + "\n")
    (problem,) = refused(path)
    assert f"{path}:{line_of(path, 'x-deep')}:" in problem and "nesting deeper" in problem


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "x-loop: &loop {again: *loop}\n")
    (problem,) = refused(path)
    assert f"{path}:{line_of(path, 'x-loop')}:" in problem and "cycle" in problem


def test_a_nul_byte_is_refused_with_its_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("title: Monthly", "title: Mon\x00thly"))
    (problem,) = refused(path)
    assert problem.startswith(f"{path}:2:11 ") and "NUL" in problem


def test_a_control_character_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("title: Monthly", "title: Mon\x1bthly"))
    (problem,) = refused(path)
    assert problem.startswith(f"{path}:2:") and "not allowed" in problem


def test_text_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.encode().replace(b"Voice", b"V\xf6ice"))
    (problem,) = refused(path)
    assert f"{path}:{GOOD.splitlines().index('    title: Voice of the customer') + 1}:" in problem


@pytest.mark.parametrize("tagged", ["!!python/object/apply:os.system ['true']",
                                    "!!python/name:os.system", "!!timestamp soon",
                                    "!!int nine", "!custom 3"])
def test_unsafe_or_unreadable_tags_are_refused_with_their_line(tmp_path: Path,
                                                               tagged: str) -> None:
    path = write(tmp_path, GOOD.replace("title: Monthly Quality Report", f"title: {tagged}"))
    problems = refused(path)
    assert any(p.startswith(f"{path}:2:") for p in problems), problems


def test_a_very_large_file_is_refused_without_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "# " + "x" * 2_000_000 + "\n")
    (problem,) = refused(path)
    assert "larger than" in problem and problem.startswith(f"{path}:1:1")


def test_a_folder_or_fifo_named_like_a_definition_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    fifo = tmp_path / "pipe.yaml"
    import os

    os.mkfifo(fifo)
    for path in (folder, fifo):
        assert "not a regular file" in refused(path)[0]


# ---------- merge keys ----------


def test_merge_keys_apply_with_written_keys_winning(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  - id: voc\n    title: Voice of the customer\n    kpis: [csat]\n",
        "  - &voc {id: voc, title: Voice of the customer, kpis: [csat], notes: [shared]}\n"
        "  - <<: *voc\n    id: again\n    title: Again\n")
    sections = load_definition(write(tmp_path, text)).definition.sections
    assert [(s.id, s.title, s.kpis, s.notes) for s in sections] == [
        ("voc", "Voice of the customer", ["csat"], ["shared"]),
        ("again", "Again", ["csat"], ["shared"])]


def test_merged_values_are_used_and_located_where_they_were_written(tmp_path: Path) -> None:
    text = GOOD.replace(
        "metrics:\n  - id: csat\n",
        "metrics:\n  - &base {id: base, calculator: csat, source: csat, params: {column: rating},"
        " target: 0.9}\n  - <<: *base\n    id: csat\n")
    text = text.replace("    params: {column: rating}\n    by: [queue]\n    target: 0.85\n",
                        "    by: [queue]\n")
    definition = load_definition(write(tmp_path, text)).definition
    merged = definition.metric("csat")
    assert (merged.calculator, merged.target, merged.by) == ("csat", 0.9, ["queue"])

    broken = write(tmp_path, text.replace("target: 0.9}", "target: .nan}"))
    problems = refused(broken)
    anchor_line = line_of(broken, "&base")
    assert any(p.startswith(f"{broken}:{anchor_line}:") and "metrics[1].target" in p
               for p in problems), problems


def test_a_merge_of_something_that_is_not_a_mapping_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("period: {grain: month, timezone: Europe/Berlin}",
                                        "period: {<<: [1, 2], grain: month}"))
    problems = refused(path)
    assert any(p.startswith(f"{path}:4:") and "merge key" in p for p in problems), problems


# ---------- what validate must catch because run and the scheduler need it ----------


@pytest.mark.parametrize("old,new,message", [
    ('cron: "0 7 2 * *"', 'cron: "0 7 2 * *"\n  timezone: Mars/Olympus',
     "unknown timezone 'Mars/Olympus'"),
    ("timezone: Europe/Berlin", "timezone: America", "unknown timezone 'America'"),
    ("kind: csv", "kind: csv\n    timezone: ../../etc/passwd", "unknown timezone"),
    ('cron: "0 7 2 * *"', 'cron: "0 7 31 2 *"', "never fires"),
    ('cron: "0 7 2 * *"', 'cron: "0 25 * * *"', "not a valid crontab"),
    ("grace_minutes: 1440", "grace_minutes: 1e308", "less than or equal"),
    ("grace_minutes: 1440", "grace_minutes: .inf", "finite number"),
    ("grace_minutes: 1440", "grace_minutes: 1440\n  retry: {backoff: 1e308}",
     "less than or equal"),
    ("target: 0.85", "target: .nan", "finite number"),
    ("target: 0.85", "target: -.inf", "finite number"),
    ("target: 0.85", "target: 1e300", "less than or equal"),
    ("by: [queue]", "by: [[[queue]]]", "valid string"),
    ("by: [queue]", "by: [[]]", "a breakdown is a column name"),
    ("owner: qa-lead@example.com", "owner: " + "q" * 250 + "@example.com", "254 characters"),
])
def test_validate_refuses_what_would_fail_later_with_a_location(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str,
        message: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    line = line_of(path, new.splitlines()[-1].strip())

    assert main(["validate", str(path)]) == 2

    err = capsys.readouterr().err
    assert f"{path}:{line}:" in err and message in err, err


@pytest.mark.parametrize("output,message", [
    ("{format: pdf, template: ../elsewhere}", "inside the definition's folder"),
    ("{format: pdf, template: /etc}", "inside the definition's folder"),
    ("{format: pdf, stylesheets: [../brand.css]}", "inside the definition's folder"),
    ("{format: pptx, master: ~/master.pptx}", "inside the definition's folder"),
    ('{format: pdf, template: "a\\0b"}', "without control characters"),
])
def test_template_paths_must_stay_in_the_definitions_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str, message: str) -> None:
    # the places named exist, so only where they are can be wrong
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "brand.css").write_text("p { color: red; }\n")
    folder = tmp_path / "definitions"
    folder.mkdir()
    path = write(folder, GOOD + f"outputs:\n  - {output}\n")

    assert main(["validate", str(path)]) == 2

    err = capsys.readouterr().err
    assert f"{path}:{line_of(path, output)}:" in err and "outputs[0]" in err, err
    assert message in err and "Traceback" not in err, err
