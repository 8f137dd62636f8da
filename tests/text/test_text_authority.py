"""Dates and numbers a reader sees are written only by reportgen.text.

Every module of the package outside ``text/`` is parsed with ``ast``; a format spec in an
f-string (``{x:%Y-%m}``, ``{x:.1f}``, ``{x:,}``, ``{x:.0%}``), a ``.strftime(`` call,
``format(x, spec)``, ``"{:.1f}".format(x)`` or ``"%.1f" % x`` is refused unless the exact
function is a machine-facing place listed in ``ALLOWED`` with its reason.  The templates of the
web page and of the PDF are read the same way for ``strftime`` and Jinja's ``format`` and
``round`` filters.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import reportgen

PACKAGE = Path(reportgen.__file__).parent
ROOT = PACKAGE.parent
TEMPLATE_FOLDERS = (PACKAGE / "web" / "templates", ROOT / "report_templates")

#: (module, function) -> why what it writes is for a machine or an operator, not a reader
ALLOWED: dict[tuple[str, str], str] = {
    ("reportgen/data/connectors.py", "<module>"): "a regular expression's character class",
    ("reportgen/render/pdf.py", "_listed"): "a Unicode code point, written U+XXXX as Unicode does",
    ("reportgen/render/pdf_chromium.py", "_dated"): "a PDF date string in the file's metadata",
    ("reportgen/cli/report_commands.py", "cmd_history"): "the run history table printed for operators",
    ("reportgen/cli/service_commands.py", "cmd_schedule"): "the schedule table printed for operators",
    ("reportgen/data/canonical.py", "_bounds"): "a timestamp literal for SQL text columns",
    ("reportgen/data/sql_source.py", "SqlConnector.open"): "timestamp literals bound into SQL",
    ("reportgen/data/contract.py", "check_contract"): "a located data error for the operator",
    ("reportgen/data/csv_source.py", "_rejected"): "a located CSV error (line numbers)",
    ("reportgen/data/resources.py", "DuckDbPolicy.limit_text"): "a memory limit in an error",
    ("reportgen/definition/yaml_loader.py", "_codepoint"): "a U+XXXX code point in an error",
    ("reportgen/definition/yaml_loader.py", "_check_bounds"): "a definition error",
    ("reportgen/definition/yaml_loader.py", "load_yaml"): "a definition error",
    ("reportgen/delivery/email.py", "AttachmentTooLarge.__init__"): "a delivery error",
    ("reportgen/demo/calibration.py", "generate_calibration"): "demo session ids",
    ("reportgen/demo/staff.py", "<module>"): "demo team and agent ids",
    ("reportgen/demo/staff.py", "make_agents"): "demo agent ids",
    ("reportgen/demo/surveys.py", "_comments"): "demo comment ids",
    ("reportgen/executors/scheduler.py", "schedule_retry"): "a log line",
    ("reportgen/ledger/locks.py", "RunLocked.__init__"): "a ledger error",
    ("reportgen/ledger/locks.py", "LockStore._abandoned"): "a ledger error",
    ("reportgen/period.py", "Period.key"): "period keys such as 2026-09",
    ("reportgen/period.py", "Period.parse"): "period keys such as 2026-09",
    ("reportgen/render/xlsx.py", "build_workbook.add"): "a render error",
    ("reportgen/charts/sparkline.py", "sparkline_svg"): "a sparkline's SVG coordinates",
    ("reportgen/render/pptx_chart_geometry.py", "format_label"):
        "a data label as the chart's own number format draws it, to measure its width",
    ("reportgen/render/pptx_labels.py", "set_plot_layout"): "plot-area fractions in chart XML",
    ("reportgen/render/pptx_labels.py", "_write_label"): "a label's offset in chart XML",
    ("reportgen/run/runner.py", "run_fanout"): "a log line",
    ("reportgen/run/holds.py", "hold_run"): "a log line",
    ("reportgen/text/*", "*"): "the text authority itself",
}
#: template -> why it may format a value itself
ALLOWED_TEMPLATES: dict[str, str] = {
    "reportgen/web/templates/audit.html": "the audit trail for administrators, to the second",
}

_PERCENT_SPEC = re.compile(r"%[-+ 0#]*\d*(?:\.\d+)?[diouxXeEfFgG%]")
_BRACE_SPEC = re.compile(r"\{[^{}]*:[^{}]+\}")
_TEMPLATE_FORMAT = re.compile(r"strftime\(|\|\s*(?:format|round)\b")


def _kind(node: ast.AST) -> str | None:
    """What formats a value in ``node``, if anything."""
    if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        return f"format spec '{ast.unparse(node.format_spec)[2:-1]}'"
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "strftime":
            return ".strftime()"
        if isinstance(func, ast.Name) and func.id == "format" and len(node.args) >= 2:
            return "format(value, spec)"
        if (isinstance(func, ast.Attribute) and func.attr == "format"
                and isinstance(func.value, ast.Constant) and isinstance(func.value.value, str)
                and _BRACE_SPEC.search(func.value.value)):
            return "str.format with a spec"
    if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)
            and _PERCENT_SPEC.search(node.left.value)):
        return "% formatting"
    return None


def _function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str:
    names: list[str] = []
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
    return ".".join(reversed(names)) or "<module>"


def _allowed(module: str, function: str) -> bool:
    return ((module, function) in ALLOWED or
            any(m.endswith("*") and module.startswith(m[:-1]) for m, _ in ALLOWED))


def offenders_in(module: str, source: str) -> list[str]:
    """``module:line: function: kind`` for each value formatted outside the allowed places."""
    tree = ast.parse(source, module)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        kind = _kind(node)
        if kind is None:
            continue
        function = _function(node, parents)
        if not _allowed(module, function):
            found.append((node.lineno, f"{module}:{node.lineno}: {function}: {kind}"))
    return [text for _, text in sorted(found)]


def _modules() -> list[tuple[str, str]]:
    return [(path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))
            for path in sorted(PACKAGE.rglob("*.py"))]


def test_no_module_outside_text_formats_a_value_for_readers() -> None:
    found = [line for module, source in _modules() for line in offenders_in(module, source)]
    assert not found, ("values formatted outside reportgen/text (write them with a text/ "
                       "function, or allow the machine-facing place in ALLOWED):\n"
                       + "\n".join(found))


def test_no_template_formats_a_value_for_readers() -> None:
    found = []
    for folder in TEMPLATE_FOLDERS:
        for path in sorted(p for p in folder.rglob("*") if p.suffix in {".html", ".j2"}):
            name = path.relative_to(ROOT).as_posix()
            if name in ALLOWED_TEMPLATES:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _TEMPLATE_FORMAT.search(line):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "templates formatting values themselves:\n" + "\n".join(found)


def test_every_allowed_place_exists_and_still_formats() -> None:
    # an entry whose function no longer formats anything is stale and would hide a new one
    sources = dict(_modules())
    for (module, function), reason in ALLOWED.items():
        if module.endswith("*"):
            continue
        assert reason and module in sources, module
        tree = ast.parse(sources[module])
        parents = {c: n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
        assert any(_kind(node) and _function(node, parents) == function
                   for node in ast.walk(tree)), f"{module} {function}: nothing to allow"
    for name in ALLOWED_TEMPLATES:
        assert _TEMPLATE_FORMAT.search((ROOT / name).read_text(encoding="utf-8")), name


def test_each_kind_is_found_at_its_line() -> None:
    source = (
        "import datetime\n"
        "def a(x):\n"
        "    return f'{x:.1f}'\n"
        "def b(x):\n"
        "    return f'{x:%Y-%m}' + f'{x:,}'\n"
        "def c(x):\n"
        "    return x.strftime('%d %b')\n"
        "def d(x):\n"
        "    return format(x, '.0%')\n"
        "def e(x):\n"
        "    return '{:.2f}'.format(x) + '%.1f' % x\n"
        "def fine(x):\n"
        "    return f'{x}' + '{}'.format(x) + format(x) + 'ok %s' % x\n"
    )
    found = offenders_in("reportgen/render/sample.py", source)
    assert [f.split(": ", 1)[0] for f in found] == [
        "reportgen/render/sample.py:3", "reportgen/render/sample.py:5",
        "reportgen/render/sample.py:5", "reportgen/render/sample.py:7",
        "reportgen/render/sample.py:9", "reportgen/render/sample.py:11",
        "reportgen/render/sample.py:11"]
    assert "a: format spec '.1f'" in found[0] and "c: .strftime()" in found[3]


def test_a_spec_added_to_the_workbook_renderer_is_refused_with_its_line() -> None:
    path = PACKAGE / "render" / "xlsx.py"
    source = path.read_text(encoding="utf-8")
    assert offenders_in("reportgen/render/xlsx.py", source) == []
    extra = source + "\n\ndef _rate_text(rate: float) -> str:\n    return f'{rate:.1f}'\n"
    line = len(extra.splitlines())
    assert offenders_in("reportgen/render/xlsx.py", extra) == [
        f"reportgen/render/xlsx.py:{line}: _rate_text: format spec '.1f'"]
