"""Personal data by construction: which columns a source's PII declaration reaches.

A ``pii:`` entry names a *column of the data*, whether it is written as the export's own
header ("Customer Email") or as the definition's name for it (``contact`` after
``rename: {contact: "Customer Email"}``).  Every name the definition can read that column
under is personal too: its renames, and the derived columns computed from it (a
``lower(contact)`` is still an e-mail address).  ``privacy.allow_pii`` lifts the rule for a
column by either of its names.

The functions take the raw document's source mapping (the checks run over the raw
document, so one typo does not hide another problem) or a ``SourceSpec``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reportgen.definition.models import Definition, SourceSpec
    from reportgen.model import BreakdownRow, MetricResult


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _mapping(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _parts(spec: Mapping[str, Any] | SourceSpec) -> tuple[list[str], dict[str, str], dict[str, str]]:
    if isinstance(spec, Mapping):
        rename = {k: str(v) for k, v in _mapping(spec.get("rename")).items()}
        derive = {k: str(v) for k, v in _mapping(spec.get("derive")).items()}
        return _strings(spec.get("pii")), rename, derive
    return list(spec.pii), dict(spec.rename), dict(spec.derive)


def _inputs(expression: str) -> list[str]:
    from reportgen.data.derive import columns_of

    try:
        return columns_of(expression)
    except ValueError:  # reported by the derive check itself
        return []


def personal_columns(spec: Mapping[str, Any] | SourceSpec,
                     allowed: Iterable[str] = ()) -> dict[str, str]:
    """Every name the definition can read personal data under -> the data column it reads.

    With ``allowed``, the names whose data column (by either name) is allowed are left out;
    a derived column is left out only when every personal column it reads is allowed.
    """
    pii, rename, derive = _parts(spec)
    allow = set(allowed)
    # a declaration names a data column, by its own header or by our name for it
    data_columns = {rename.get(entry, entry) for entry in pii}
    names = {*pii, *rename, *derive}
    found: dict[str, str] = {}
    for name in names:
        data = rename.get(name, name)
        if name in derive:
            continue
        if data in data_columns and not (name in allow or data in allow):
            found[name] = data
    # derived columns: personal when they read a personal column (to a fixed point, since
    # one derived column may read another)
    changed = True
    while changed:
        changed = False
        for name, expression in derive.items():
            if name in found or name in allow:
                continue
            reads = [c for c in _inputs(expression) if c in found]
            if reads:
                found[name] = found[reads[0]]
                changed = True
    return found


def missing_in_data(spec: SourceSpec, available: Iterable[str]) -> list[str]:
    """``pii`` entries matching no column of the opened data (by either name)."""
    have = set(available)
    return [entry for entry in spec.pii
            if entry not in have and spec.rename.get(entry) not in have and entry not in spec.derive]


def personal_breakdowns(definition: Definition) -> dict[str, set[str]]:
    """Per metric id, the breakdown keys ('queue,agent_name') that read a personal column
    (one ``allow_pii`` lets through: the others never pass validation)."""
    out: dict[str, set[str]] = {}
    for metric in definition.metrics:
        source = definition.sources.get(metric.source)
        if source is None:
            continue
        personal = personal_columns(source)
        for entry in metric.by:
            columns = [entry] if isinstance(entry, str) else list(entry)
            if any(c in personal for c in columns):
                out.setdefault(metric.id, set()).add(",".join(columns))
    return out


def count_suppressed(result: MetricResult, keys: Iterable[str]) -> MetricResult:
    """``result`` with the suppressed segments of the ``keys`` breakdowns folded into one
    row that counts them: a segment too small to show is, over personal data, usually one
    person, so its name is not printed either."""
    breakdowns = dict(result.breakdowns)
    for key in keys:
        rows = breakdowns.get(key)
        if not rows:
            continue
        hidden = [r for r in rows if r.suppressed]
        if not hidden:
            continue
        width = len(rows[0].key)
        folded: BreakdownRow = replace(
            hidden[0], key=(f"{len(hidden)} segment(s) not named",) + ("",) * (width - 1),
            value=None, n=sum(r.n for r in hidden), numerator=None, denominator=None,
            interval=None, change=None, status=None,
            suppressed=f"{len(hidden)} segment(s) with too few observations")
        breakdowns[key] = tuple(r for r in rows if not r.suppressed) + (folded,)
    return replace(result, breakdowns=breakdowns)


def mask_results(definition: Definition,
                 results: Mapping[str, MetricResult]) -> dict[str, MetricResult]:
    """Every metric result, with personal breakdowns' suppressed segments counted, not named."""
    personal = personal_breakdowns(definition)
    return {metric_id: count_suppressed(result, personal[metric_id])
            if metric_id in personal else result for metric_id, result in results.items()}
