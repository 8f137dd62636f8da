"""Seeded fuzzing of ``reportgen validate`` with broken and hostile definitions.

Each case mutates one of the example definitions (configs/) in one way: a deleted key, a
value of the wrong type, a huge or non-finite number, odd unicode, a NUL byte, deep
nesting, aliases and merge keys, a timezone or cron that cannot work, a file name that
climbs out of the output folder, an unknown name.  Every case must end in exit 0 or a
located exit 2; never exit 1 and never a traceback.  And what ``validate`` passes must
``run --send``: a representative subset of the cases that validate (the run renders every
document, so not all of them) is run on the demo data and sent to a loopback mail server.
"""

from __future__ import annotations

import copy
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.paths import REPO

from reportgen.cli import main

EXAMPLES = ("monthly_quality_report.yaml", "qbr.yaml")
SEED = 20261202
CASES_PER_EXAMPLE = 165

BAD_ZONES = ["Mars/Olympus", "America", "", "../../etc/passwd", "UTC\x00", "a" * 300,
             "Europe/../Europe/Berlin", "zone.tab", 42, None, ["UTC"]]
BAD_CRONS = ["0 7 31 2 *", "0 7 30 2 *", "61 * * * *", "* * *", "", "every day",
             "0 7 2 * * * *", "0 25 * * *", "*/0 * * * *", "0 7 2 13 *", 7, ["0 7 2 * *"],
             "0 7 2 * mon-" , "0\x00 7 * * *"]
BAD_FILENAMES = ["../x.pdf", "../../{report}.{ext}", "/tmp/abs.{ext}", "a/b.pdf", "", " ",
                 "{nope}.pdf", "{report", "}{", "{0}.pdf", "{report.__class__}", "..",
                 "x\x00.pdf", "{period!r}.pdf", "{ext:>999999999}", 5, None]
BAD_PATHS = ["../../etc", "/etc", "~/x", "x\x00y", "", "../" * 20 + "passwd", 3]
HUGE = [1e308, -1e308, 10**30, -(10**30), 10**400, float("nan"), float("inf"),
        float("-inf"), 0, -1, 1e-320]
WRONG_TYPES: list[Any] = [None, True, 0, -7, 3.5, "", "x", "\U0001F600" * 3, [], [1, [2]],
                          {}, {"a": {"b": None}}, [[["x"]]]]
#: what a send reads: subject templates, attachments, header values (some of them fine)
DELIVERY: list[tuple[str, Any]] = [
    ("subject", "{nope} report"), ("subject", "{title.__class__}"), ("subject", "{title:>99}"),
    ("subject", "{organisation}: {title} ({period})"), ("attach", ["pptx"]),
    ("attach", ["pdf", "pptx"]), ("attach", ["pdf"]), ("title", "\u2028x"),
    ("organisation", "\nBcc: x@example.com"), ("title", " 中文"), ("subject", "{0}")]
UNICODE = ["\u202eevil", "caf\u00e9", "\U0001F4A9", "\u0301", "\ufeffid", "\u00a0",
           "a\u2028b", "名前", "\\x00", "line\nbreak", "tab\there"]

BILLION_LAUGHS = (
    'lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"lol{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
              for prev, name in zip("abcdefgh", "bcdefghi", strict=True)))


@dataclass(frozen=True)
class Case:
    name: str
    content: bytes


# ---------- mutations of the parsed document ----------


def walk(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, (*prefix, i))


def parent_of(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def set_at(data: Any, path: tuple[Any, ...], value: Any) -> None:
    parent_of(data, path)[path[-1]] = value


def random_path(rng: random.Random, data: Any) -> tuple[Any, ...]:
    return rng.choice([p for p in walk(data) if p])


def mutate_data(rng: random.Random, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    data = copy.deepcopy(data)
    kind = rng.choice(["delete", "wrong_type", "huge", "unicode", "zone", "cron", "filename",
                       "template", "by", "unknown_name", "unknown_key", "owner", "pii",
                       "kpis", "retry", "target", "delivery"])
    metrics = data["metrics"]
    metric = rng.choice(metrics)
    if kind == "delete":
        path = random_path(rng, data)
        del parent_of(data, path)[path[-1]]
    elif kind == "wrong_type":
        set_at(data, random_path(rng, data), copy.deepcopy(rng.choice(WRONG_TYPES)))
    elif kind == "huge":
        numeric = [p for p in walk(data) if p and isinstance(parent_of(data, p)[p[-1]], int | float)
                   and not isinstance(parent_of(data, p)[p[-1]], bool)]
        set_at(data, rng.choice(numeric), rng.choice(HUGE))
    elif kind == "unicode":
        # not a source's SQL: validate reads no query (it loads no database driver), and a
        # query with a stray character fails its run with the source's located error instead
        text = [p for p in walk(data) if p and isinstance(parent_of(data, p)[p[-1]], str)
                and p[-1] != "query"]
        path = rng.choice(text)
        set_at(data, path, parent_of(data, path)[path[-1]] + rng.choice(UNICODE))
    elif kind == "zone":
        where = rng.choice(["period", "schedule", "source"])
        zone = rng.choice(BAD_ZONES)
        if where == "period":
            data.setdefault("period", {})["timezone"] = zone
        elif where == "schedule":
            data["schedule"] = {"cron": "0 7 2 * *", "timezone": zone}
        else:
            rng.choice(list(data["sources"].values()))["timezone"] = zone
    elif kind == "cron":
        data["schedule"] = {"cron": rng.choice(BAD_CRONS)}
    elif kind == "filename":
        data["outputs"] = [{"format": "pdf", "filename": rng.choice(BAD_FILENAMES)}]
    elif kind == "template":
        key = rng.choice(["template", "stylesheets", "master"])
        value = rng.choice(BAD_PATHS)
        data["outputs"] = [{"format": "pdf" if key != "master" else "pptx",
                            key: [value] if key == "stylesheets" else value}]
    elif kind == "by":
        metric["by"] = copy.deepcopy(rng.choice(
            [[[["x"]]], [1, 2], "queue", {"a": "b"}, [None], [["queue", ["x"]]], [[]]]))
    elif kind == "unknown_name":
        target = rng.choice(["calculator", "source", "chart", "kind", "kpi"])
        name = rng.choice(["nope", "csat_top2", "", "__import__", "../x"])
        if target in ("calculator", "source"):
            metric[target] = name
        elif target == "chart" and data.get("charts"):
            rng.choice(data["charts"])["type"] = name
        elif target == "kind":
            rng.choice(list(data["sources"].values()))["kind"] = name
        else:
            data["sections"][0]["kpis"] = [name]
    elif kind == "unknown_key":
        mappings = [p for p in walk(data) if isinstance(
            data if not p else parent_of(data, p)[p[-1]], dict)]
        path = rng.choice(mappings)
        node = data if not path else parent_of(data, path)[path[-1]]
        node[rng.choice(["sourcez", "colour", "__class__", "<<", "", "ïd"])] = 1
    elif kind == "owner":
        data["owner"] = rng.choice(["not-an-address", "a@b.c\nBcc: x@y.z", "", 5,
                                    "x@" + "y" * 300 + ".com"])
    elif kind == "pii":
        data["privacy"] = {"allow_pii": rng.choice([5, [["a"]], "agent", {"a": 1}])}
    elif kind == "kpis":
        data["sections"][0]["kpis"] = rng.choice([5, "csat", [["csat"]], {"a": 1}])
    elif kind == "retry":
        data["schedule"] = {"cron": "0 7 2 * *", "grace_minutes": rng.choice(HUGE),
                            "retry": {"backoff": rng.choice(HUGE),
                                      "every_minutes": rng.choice(HUGE)}}
    elif kind == "delivery":
        field, value = rng.choice(DELIVERY)
        if field in ("title", "organisation"):
            data[field] = str(data.get(field) or "") + value
        else:
            email = data.setdefault("delivery", {}).setdefault("email", {})
            email.setdefault("to", ["director@example.com"])
            email[field] = copy.deepcopy(value)
    else:
        metric["target"] = rng.choice([*HUGE, "high", [0.8]])
    return kind, data


def dump(data: dict[str, Any]) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


# ---------- mutations of the text ----------


def mutate_text(rng: random.Random, text: str) -> tuple[str, bytes]:
    kind = rng.choice(["nul", "control", "truncate", "duplicate_line", "tab", "laughs",
                       "merge", "bad_merge", "many_aliases", "cycle", "deep_flow",
                       "deep_block", "bad_utf8", "python_tag", "bad_tag", "bom", "empty",
                       "top_list", "huge_int", "multi_doc"])
    lines = text.splitlines(keepends=True)
    at = rng.randrange(len(text))
    line = rng.randrange(len(lines))
    # a top-level key line: text inserted before it is a top-level entry of its own
    top = rng.choice([i for i, t in enumerate(lines) if re.match(r"[a-z]", t)])

    def before_top(block: str) -> bytes:
        return "".join(lines[:top] + [block] + lines[top:]).encode()
    if kind == "nul":
        return kind, (text[:at] + "\x00" + text[at:]).encode()
    if kind == "control":
        return kind, (text[:at] + rng.choice("\x01\x07\x1b\x7f") + text[at:]).encode()
    if kind == "truncate":
        return kind, text[:at].encode()
    if kind == "duplicate_line":
        return kind, "".join(lines[:line + 1] + lines[line:]).encode()
    if kind == "tab":
        return kind, "".join(lines[:line] + ["\t" + lines[line]] + lines[line + 1:]).encode()
    if kind == "laughs":
        return kind, before_top(BILLION_LAUGHS)
    if kind == "merge":
        defaults = rng.choice(["{grain: month, timezone: Mars/Olympus}",
                               "{grain: decade}", "{timezone: Europe/Berlin, history: 999}",
                               "{timezone: UTC}"])
        return kind, (f"x-defaults: &defaults {defaults}\n"
                      + re.sub(r"(?m)^period:\n", "period:\n  <<: *defaults\n", text, count=1)
                      ).encode()
    if kind == "bad_merge":
        return kind, re.sub(r"(?m)^statistics:.*$", "statistics: {<<: [1, 2]}", text,
                            count=1).encode()
    if kind == "many_aliases":
        return kind, before_top("x-a: &a 1\nx-list: [" + ", ".join(["*a"] * rng.randint(101, 500))
                                + "]\n")
    if kind == "cycle":
        return kind, before_top(rng.choice(["x-c: &c [1, *c]\n", "x-c: &c {a: *c}\n"]))
    if kind == "deep_flow":
        depth = rng.choice([41, 200, 5000])
        return kind, (text + "x-deep: " + "[" * depth + "]" * depth + "\n").encode()
    if kind == "deep_block":
        depth = rng.choice([41, 120])
        block = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n"
        return kind, (text + "x-deep:\n" + "".join("  " + b + "\n" for b in block.splitlines())
                      ).encode()
    if kind == "bad_utf8":
        raw = text.encode()
        return kind, raw[:at] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80"]) + raw[at:]
    if kind == "python_tag":
        return kind, before_top(rng.choice([
            "x-run: !!python/object/apply:os.system ['echo pwned']\n",
            "x-run: !!python/name:os.system\n", "x-run: !!python/tuple [1]\n"]))
    if kind == "bad_tag":
        return kind, before_top(rng.choice(["x-when: !!timestamp soon\n", "x-n: !!int nine\n",
                                            "x-m: !custom {a: 1}\n", "x-f: !!float x\n",
                                            "x-b: !!binary '%%%'\n", "x-s: !!set {a: 1}\n"]))
    if kind == "bom":
        return kind, ("\ufeff" + text).encode()
    if kind == "empty":
        return kind, rng.choice([b"", b"\n", b"# only a comment\n", b"---\n", b"~\n"])
    if kind == "top_list":
        return kind, b"- id: x\n- title: y\n"
    if kind == "huge_int":
        return kind, re.sub(r"history: \d+", "history: " + "9" * 5000, text, count=1).encode()
    return kind, (text + "---\nid: second\n").encode()


def generate_cases(seed: int = SEED) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    for example in EXAMPLES:
        text = (REPO / "configs" / example).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        for i in range(CASES_PER_EXAMPLE):
            if rng.random() < 0.55:
                kind, mutated = mutate_data(rng, data)
                content = dump(mutated)
            else:
                kind, content = mutate_text(rng, text)
            cases.append(Case(f"{example.removesuffix('.yaml')}-{i:03d}-{kind}", content))
    return cases


@pytest.fixture
def keep_root_logging() -> Iterator[None]:
    """main() installs its own log handler; put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.mark.long
def test_broken_definitions_never_crash_validate(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], keep_root_logging: None) -> None:
    cases = generate_cases()
    assert len(cases) >= 250
    outcomes: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    failures: list[str] = []
    started = time.monotonic()
    for case in cases:
        folder = tmp_path / case.name
        folder.mkdir()
        path = folder / "definition.yaml"
        path.write_bytes(case.content)
        status = main(["validate", str(path)])
        captured = capsys.readouterr()
        outcomes[status] += 1
        kinds[case.name.split("-", 2)[2]] += 1
        problem = _judge(status, captured.out + captured.err, path)
        if problem:
            failures.append(f"{case.name}: {problem}\n{captured.err[-600:]}")
    elapsed = time.monotonic() - started

    summary = (f"{len(cases)} definitions in {elapsed:.1f}s: exit 0 x{outcomes[0]}, "
               f"exit 2 x{outcomes[2]}, exit 1 x{outcomes[1]}, other "
               f"x{sum(n for s, n in outcomes.items() if s not in (0, 1, 2))}; "
               f"{len(failures)} failures; kinds: {dict(sorted(kinds.items()))}")
    with capsys.disabled():
        print("\n" + summary)
    assert failures == [], summary + "\n" + "\n".join(failures[:10])
    # the mutations must mostly break things, or the test would prove little
    assert outcomes[2] >= 0.8 * len(cases), summary


#: the mutation kinds whose valid cases are run first (they change what a run reads)
RUN_FIRST = ("delivery", "unicode", "huge", "target", "wrong_type", "delete", "duplicate_line", "bom")
RUNS_PER_EXAMPLE = 1


def representative(root: Path, capsys: pytest.CaptureFixture[str]) -> list[tuple[Case, Path]]:
    """Per example, the first case ``validate`` passes of each of the first RUNS_PER_EXAMPLE
    kinds in RUN_FIRST order, written to ``root/<case>/definition.yaml``.  Cases are
    validated in that order only until enough are found (the validate test above runs them
    all)."""
    cases = generate_cases()
    chosen = []
    for example in EXAMPLES:
        mine = [c for c in cases if c.name.startswith(example.removesuffix(".yaml"))]
        found_here = 0
        for kind in RUN_FIRST:
            if found_here == RUNS_PER_EXAMPLE:
                break
            for case in (c for c in mine if c.name.endswith("-" + kind)):
                folder = root / case.name
                folder.mkdir()
                path = folder / "definition.yaml"
                path.write_bytes(case.content)
                if main(["validate", str(path)]) == 0:
                    chosen.append((case, path))
                    found_here += 1
                    break
    capsys.readouterr()
    return chosen


@pytest.mark.slow
@pytest.mark.long
def test_fuzzed_definitions_that_validate_also_run_and_send(
        tmp_path: Path, demo_dir: Path, smtp_server: Any,
        capsys: pytest.CaptureFixture[str], keep_root_logging: None) -> None:
    from support.smtp_server import smtp_settings

    # the examples read ../out/demo from their own folder
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "demo").symlink_to(demo_dir, target_is_directory=True)
    settings = tmp_path / "settings.yaml"
    settings.write_text(yaml.safe_dump({
        "smtp": smtp_settings(smtp_server, attempts=1).model_dump(mode="json")}),
        encoding="utf-8")
    chosen = representative(tmp_path, capsys)
    assert len(chosen) == RUNS_PER_EXAMPLE * len(EXAMPLES), [c.name for c, _ in chosen]

    disagreements = []
    for case, path in chosen:
        # a ledger each: one shared would skip recipients an earlier case reached
        status = main(["run", str(path), "--period", "2026-09", "--send", "--settings",
                       str(settings), "--out", str(tmp_path / "runs" / case.name),
                       "--ledger", f"sqlite:///{tmp_path / 'runs' / case.name}.sqlite"])
        err = capsys.readouterr().err
        if status != 0:
            disagreements.append(f"{case.name}: validate 0, run {status}: {err[-600:]}")
    with capsys.disabled():
        print(f"\n{len(chosen)} fuzzed definitions that validate run and sent: "
              f"{len(disagreements)} disagreements")
    assert disagreements == []
    sent = {m.message["X-Reportgen-Report"] for m in smtp_server.received}
    assert len({m.message["Message-ID"] for m in smtp_server.received}) >= len(chosen), sent


def _judge(status: int, output: str, path: Path) -> str | None:
    if "Traceback" in output:
        return "traceback"
    if status not in (0, 2):
        return f"exit {status}"
    if status == 2 and not re.search(rf"{re.escape(str(path))}:\d+", output):
        return "exit 2 without file:line"
    return None


def test_the_fuzz_cases_are_the_same_for_the_same_seed() -> None:
    first, second = generate_cases(), generate_cases()
    assert [c.content for c in first] == [c.content for c in second]
    assert len({c.content for c in first}) >= 250


@pytest.mark.parametrize("mutate", [mutate_text, mutate_data])
def test_each_mutation_kind_is_generated(mutate: Callable[..., Any]) -> None:
    """The seed must reach every kind, or a crash class could go untested."""
    import inspect

    source = inspect.getsource(mutate)
    listed = re.findall(r'"(\w+)"', source.split("rng.choice([", 1)[1].split("])", 1)[0])
    made = {case.name.split("-", 2)[2] for case in generate_cases()}
    assert set(listed) <= made, set(listed) - made
