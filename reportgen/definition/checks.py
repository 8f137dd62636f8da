"""Turn a parsed YAML document into a Definition, collecting every problem at once.

Two passes, both always run: the typed models (unknown keys, wrong types, bad values),
then the cross-references no single model can see (a metric's calculator and source, the
columns it reads, a section's charts...).  The second pass reads the raw document item by
item, so a typo in one metric does not hide a problem in another.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from reportgen.definition.document import Definition
from reportgen.definition.yaml_loader import LineMap, PathKey, format_path
from reportgen.errors import DefinitionError, Problem


class Collector:
    def __init__(self, lines: LineMap):
        self.lines = lines
        self.problems: list[Problem] = []
        self._seen: set[tuple[str, str]] = set()

    def add(self, path: PathKey, message: str, *, key: bool = False) -> None:
        text = format_path(path)
        if (text, message) in self._seen:
            return
        self._seen.add((text, message))
        self.problems.append(Problem(text, message, self.lines.locate(path, key=key)))


def _did_you_mean(name: str, options: Iterable[str]) -> str:
    options = sorted(set(options))
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{hint} (available: {', '.join(options) or 'none'})"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The field names allowed at ``loc`` inside ``model`` (best effort, for 'unknown key')."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        else:
            args = [a for a in getattr(current, "__args__", ()) if a is not type(None)]
            candidates = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            nested = [a for a in args if getattr(a, "__args__", None)]
            if candidates:
                current = candidates[-1]
            elif nested:
                inner = [x for x in nested[0].__args__ if isinstance(x, type) and issubclass(x, BaseModel)]
                current = inner[-1] if inner else None
            else:
                return None
    while not (isinstance(current, type) and issubclass(current, BaseModel)):
        args = [a for a in getattr(current, "__args__", ()) if a is not type(None)]
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if not models:
            return None
        current = models[-1]
    return list(current.model_fields)


def _found(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def pydantic_problems(exc: ValidationError, out: Collector, model: type[BaseModel],
                      prefix: PathKey = ()) -> None:
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # pydantic reports union members as extra loc parts ("str", "list[str]"); drop them
        path = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("str", "int", "float", "bool"))))
        full = (*prefix, *path)
        kind = error["type"]
        if kind == "extra_forbidden":
            allowed = _fields_at(model, path) or []
            name = str(path[-1])
            out.add(full, f"unknown key '{name}'{_did_you_mean(name, allowed)}", key=True)
        elif kind == "missing":
            out.add(full[:-1] or full, f"missing required key '{full[-1]}'")
        else:
            message = error["msg"].removeprefix("Value error, ")
            found = f", found {_found(error['input'])}" if kind != "value_error" else ""
            out.add(full, f"{message[0].lower()}{message[1:]}{found}")


def _items(raw: Mapping[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = raw.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _ids(raw: Mapping[str, Any], key: str, out: Collector) -> list[str]:
    seen: list[str] = []
    for i, item in _items(raw, key):
        ident = item.get("id")
        if isinstance(ident, str):
            if ident in seen:
                out.add((key, i, "id"), f"duplicate {key[:-1]} id '{ident}'")
            seen.append(ident)
    return seen


def metric_breakdowns(raw: Mapping[str, Any]) -> dict[str, list[str]]:
    """Per metric id, its breakdown keys as written in tables and charts ('queue,category')."""
    out: dict[str, list[str]] = {}
    for _, metric in _items(raw, "metrics"):
        by = metric.get("by") or []
        if isinstance(metric.get("id"), str):
            out[metric["id"]] = [e if isinstance(e, str) else ",".join(map(str, e))
                                 for e in by if isinstance(e, str | list)] \
                if isinstance(by, list) else []
    return out


def check_source_columns(raw: Mapping[str, Any], out: Collector, path: PathKey, source: str,
                         columns: Iterable[str], what: str) -> None:
    """Columns must be in the source's contract (when it has one) and not be personal data
    unless privacy.allow_pii lists them."""
    found = raw.get("sources")
    sources: dict[Any, Any] = found if isinstance(found, dict) else {}
    spec = sources.get(source)
    if not isinstance(spec, dict):
        return
    from reportgen.definition.pii import personal_columns

    privacy = raw.get("privacy")
    allowed = privacy.get("allow_pii") if isinstance(privacy, dict) else None
    # a declaration binds to the data column, whatever either name it is written by
    pii = personal_columns(spec, allowed if isinstance(allowed, list) else ())
    contract = spec.get("columns")
    derived = {str(c) for c in spec.get("derive") or {}} if isinstance(spec.get("derive"), dict) \
        else set()
    known = ({str(c) for c in contract} | {str(spec.get("time_column"))} | derived
             if isinstance(contract, dict) and contract else None)
    for column in columns:
        if known is not None and column not in known:
            out.add(path, f"{what} reads column '{column}', which source '{source}' does not "
                          f"declare{_did_you_mean(column, known)}")
        if column in pii:
            via = "" if pii[column] == column else f" (it reads the data's '{pii[column]}')"
            out.add(path, f"{what} reads column '{column}', which source '{source}' marks as "
                          f"personal data{via}; list it under privacy.allow_pii to show it")


def cross_reference_problems(raw: Mapping[str, Any], out: Collector, base_dir: Path) -> None:
    found = raw.get("sources")
    sources: dict[Any, Any] = found if isinstance(found, dict) else {}
    metric_ids = _ids(raw, "metrics", out)
    chart_ids = _ids(raw, "charts", out)
    _ids(raw, "sections", out)
    metric_by = metric_breakdowns(raw)
    metric_source: dict[str, str] = {}

    def check_columns(path: PathKey, source: str, columns: Iterable[str], what: str) -> None:
        check_source_columns(raw, out, path, source, columns, what)

    for i, metric in _items(raw, "metrics"):
        source = metric.get("source")
        if isinstance(source, str) and source not in sources:
            out.add(("metrics", i, "source"), f"unknown source '{source}'{_did_you_mean(source, sources)}")
        by = metric.get("by") or []
        by_columns = [c for entry in by if isinstance(by, list)
                      for c in ([entry] if isinstance(entry, str) else entry if isinstance(entry, list) else [])]
        if isinstance(metric.get("id"), str) and isinstance(source, str):
            metric_source[metric["id"]] = source
        columns = list(by_columns)
        if isinstance(metric.get("filter"), dict):
            columns += [str(c) for c in metric["filter"]]
        if isinstance(source, str) and source in sources:
            check_columns(("metrics", i), source, columns, f"metric '{metric.get('id')}'")

    for i, chart in _items(raw, "charts"):
        refs = chart.get("metric")
        for ref in [refs] if isinstance(refs, str) else refs if isinstance(refs, list) else []:
            if isinstance(ref, str) and ref not in metric_ids:
                out.add(("charts", i, "metric"), f"unknown metric '{ref}'{_did_you_mean(ref, metric_ids)}")

    for i, section in _items(raw, "sections"):
        for j, ref in enumerate(section.get("kpis") or []):
            if isinstance(ref, str) and ref not in metric_ids:
                out.add(("sections", i, "kpis", j), f"unknown metric '{ref}'{_did_you_mean(ref, metric_ids)}")
        for j, ref in enumerate(section.get("charts") or []):
            if isinstance(ref, str) and ref not in chart_ids:
                out.add(("sections", i, "charts", j), f"unknown chart '{ref}'{_did_you_mean(ref, chart_ids)}")
        for j, table in enumerate(section.get("tables") or []):
            if not isinstance(table, dict) or not isinstance(table.get("metric"), str):
                continue
            ref = table["metric"]
            if ref not in metric_ids:
                out.add(("sections", i, "tables", j, "metric"), f"unknown metric '{ref}'{_did_you_mean(ref, metric_ids)}")
                continue
            by = table.get("by")
            key = by if isinstance(by, str) else ",".join(map(str, by)) if isinstance(by, list) else None
            if key is not None and key not in metric_by.get(ref, []):
                out.add(("sections", i, "tables", j, "by"),
                        f"metric '{ref}' has no breakdown '{key}'; add it to the metric's 'by' "
                        f"(it has: {', '.join(metric_by.get(ref, [])) or 'none'})")

    for j, ref in enumerate(raw.get("summary") or [] if isinstance(raw.get("summary"), list) else []):
        if isinstance(ref, str) and ref not in metric_ids:
            out.add(("summary", j), f"unknown metric '{ref}'{_did_you_mean(ref, metric_ids)}")
    for i, gate in _items(raw, "gates"):
        if isinstance(gate.get("source"), str) and gate["source"] not in sources:
            out.add(("gates", i, "source"), f"unknown source '{gate['source']}'{_did_you_mean(gate['source'], sources)}")
        if isinstance(gate.get("metric"), str) and gate["metric"] not in metric_ids:
            out.add(("gates", i, "metric"), f"unknown metric '{gate['metric']}'{_did_you_mean(gate['metric'], metric_ids)}")
        if isinstance(gate.get("column"), str) and isinstance(gate.get("source"), str):
            check_columns(("gates", i, "column"), gate["source"], [gate["column"]], "gate")
    for i, item in _items(raw, "interventions"):
        ref = item.get("metric")
        if isinstance(ref, str) and ref not in metric_ids:
            out.add(("interventions", i, "metric"), f"unknown metric '{ref}'{_did_you_mean(ref, metric_ids)}")
        elif isinstance(ref, str) and isinstance(item.get("scope"), dict) and ref in metric_source:
            check_columns(("interventions", i, "scope"), metric_source[ref], item["scope"], "intervention")
    _privacy_problems(raw, out, sources)
    scorecard_problems(raw, out)
    for i, output in _items(raw, "outputs"):
        for key in ("template", "master"):
            value = output.get(key)
            if isinstance(value, str) and not (base_dir / value).exists():
                out.add(("outputs", i, key), f"not found: {base_dir / value}")
        for j, sheet in enumerate(output.get("stylesheets") or []):
            if isinstance(sheet, str) and not (base_dir / sheet).is_file():
                out.add(("outputs", i, "stylesheets", j), f"not found: {base_dir / sheet}")


def scorecard_problems(raw: Mapping[str, Any], out: Collector) -> None:
    """Each scorecard metric must exist and be broken down by the scorecard's column."""
    spec = raw.get("scorecard")
    if not isinstance(spec, dict) or not isinstance(spec.get("metrics"), list):
        return
    by = spec.get("by")
    breakdowns = metric_breakdowns(raw)
    for j, ref in enumerate(spec["metrics"]):
        if not isinstance(ref, str):
            continue
        if ref not in breakdowns:
            out.add(("scorecard", "metrics", j),
                    f"unknown metric '{ref}'{_did_you_mean(ref, breakdowns)}")
        elif isinstance(by, str) and by not in breakdowns[ref]:
            out.add(("scorecard", "metrics", j),
                    f"metric '{ref}' has no breakdown '{by}'; add '{by}' to the metric's 'by' "
                    f"(it has: {', '.join(breakdowns[ref]) or 'none'})")


def _privacy_problems(raw: Mapping[str, Any], out: Collector, sources: Mapping[str, Any]) -> None:
    """A source's key must be one of its columns; a fan-out must not make one report per
    person.  (Whether each PII entry names a
    column is checked against the data's header when the source opens: a contract need
    not type every column the data has.)"""
    for name, spec in sources.items():
        keys = spec.get("dedupe_on") if isinstance(spec, dict) else None
        if isinstance(keys, list) and isinstance(spec.get("columns"), dict) and spec["columns"]:
            declared = {str(c) for c in spec["columns"]} | {str(c) for c in spec.get("rename") or {}}
            for j, key in enumerate(keys):
                if isinstance(key, str) and key not in declared:
                    out.add(("sources", name, "dedupe_on", j),
                            f"dedupe_on names column '{key}', which source '{name}' does not "
                            f"declare{_did_you_mean(key, declared)}")
    fan_out = raw.get("fan_out")
    if isinstance(fan_out, dict):
        by = fan_out.get("by")
        columns = [by] if isinstance(by, str) else [c for c in by if isinstance(c, str)] \
            if isinstance(by, list) else []
        chosen = fan_out.get("source")
        for name in [chosen] if isinstance(chosen, str) else list(sources):
            if name in sources:
                _personal_only(raw, out, name, columns)
    _personal_recipients(raw, out, sources)


def _personal_recipients(raw: Mapping[str, Any], out: Collector,
                         sources: Mapping[Any, Any]) -> None:
    """A column declared personal data is never where recipients come from, whatever
    privacy.allow_pii says: those are customers' addresses."""
    from reportgen.definition.pii import personal_columns

    spec = raw.get("recipients_from")
    if not isinstance(spec, dict) or not isinstance(spec.get("source"), str):
        return
    source = sources.get(spec["source"])
    column = spec.get("email", "email")
    if not isinstance(source, dict) or not isinstance(column, str):
        return
    pii = personal_columns(source)
    if column in pii:
        via = "" if pii[column] == column else f" (it reads the data's '{pii[column]}')"
        out.add(("recipients_from", "email") if "email" in spec else ("recipients_from",),
                f"expected a column of staff addresses, found column '{column}', which "
                f"source '{spec['source']}' marks as personal data{via}: a report is never "
                f"mailed to addresses from a personal column")


def _personal_only(raw: Mapping[str, Any], out: Collector, source: str,
                   columns: Iterable[str]) -> None:
    from reportgen.definition.pii import personal_columns

    spec = raw["sources"][source]
    if not isinstance(spec, dict):
        return
    privacy = raw.get("privacy")
    allowed = privacy.get("allow_pii") if isinstance(privacy, dict) else None
    pii = personal_columns(spec, allowed if isinstance(allowed, list) else ())
    for column in columns:
        if column in pii:
            out.add(("fan_out", "by"), f"fan_out splits by column '{column}', which source "
                                       f"'{source}' marks as personal data; list it under "
                                       f"privacy.allow_pii to make one report per value")


#: a further check over the raw document, adding its problems to the collector
Check = Callable[[Mapping[str, Any], Collector, Path], None]


def validate(raw: dict[str, Any], lines: LineMap, base_dir: Path,
             checks: Sequence[Check] = ()) -> Definition:
    """The Definition for ``raw``, or a DefinitionError listing every problem found
    (by the models, the cross-references and ``checks``)."""
    out = Collector(lines)
    definition: Definition | None = None
    try:
        definition = Definition.model_validate(raw)
    except ValidationError as exc:
        pydantic_problems(exc, out, Definition)
    cross_reference_problems(raw, out, base_dir)
    for check in checks:
        check(raw, out, base_dir)
    if out.problems or definition is None:
        ordered = sorted(out.problems, key=lambda p: (p.location.line or 0, p.location.column or 0)
                         if p.location else (0, 0))
        raise DefinitionError(lines.file, ordered)
    return definition
