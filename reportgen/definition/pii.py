"""Which columns a source's ``pii:`` declaration reaches, by every name the definition can
read them under (renames, and derived columns computed from them).

A ``pii:`` entry names a *column of the data*, whether it is written as the export's own
header ("Customer Email") or as the definition's name for it.  ``privacy.allow_pii`` lifts
the rule for a column by either of its names.  The functions take the raw document's source
mapping (the checks run over the raw document, so one typo does not hide another problem)
or a ``SourceSpec``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reportgen.definition.content_specs import SourceSpec


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
    from reportgen.definition.expressions import columns_of

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
