"""Each fan-out segment's recipients, from a mapping file or from a column of the data.

A recipient is someone inside the organisation.  So an address read from data (where
customers' addresses live) is sent only to a domain the settings' ``allowed_domains``
lists (an empty list denies every one), and a mapping file's address only to a listed
domain when the list is set.  A bad or missing recipient stops only its own segment, and
no message this module writes quotes an address: a refused one may be a customer's.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reportgen.errors import Location, Problem
from reportgen.run.fanout import (
    JOIN,
    FanOutError,
    Segment,
    SegmentPlan,
    SegmentStore,
    primary_source,
    segment_counts,
    segmented_sources,
)

if TYPE_CHECKING:
    from reportgen.data.store import DataStore
    from reportgen.definition import LoadedDefinition
    from reportgen.period import Period


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().lower().rstrip(">")


def allowed(address: str, domains: Sequence[str]) -> bool:
    """``address`` is at one of ``domains`` or a subdomain of one (no list: any domain)."""
    if not domains:
        return True
    host = domain_of(address)
    return any(host == d or host.endswith("." + d)
               for d in (x.lower().lstrip("@") for x in domains))


def _address(value: str) -> str | None:
    """``value`` as a checked address, or None when it is not one."""
    from reportgen.definition.delivery_specs import check_address

    try:
        return check_address(value)
    except ValueError:
        return None


@dataclass
class RecipientMapping:
    """What a mapping file says: each segment's addresses, the problems of each segment's
    rows (located, quoting no address), and the rows whose key names no segment yet seen."""

    file: str
    addresses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    problems: dict[str, list[Problem]] = field(default_factory=dict)
    rows: dict[str, Location] = field(default_factory=dict)

    def refusal(self, segment: str) -> str | None:
        """Why ``segment`` gets no report (its rows are wrong, or it has none), or None."""
        if segment in self.problems:
            return (f"its recipient row(s) in {self.file} are wrong: "
                    + "; ".join(str(p) for p in self.problems[segment]))
        if segment in self.addresses:
            return None
        close = difflib.get_close_matches(segment, [k for k in self.rows if k], n=1,
                                          cutoff=0.6)
        hint = (f"; did you mean the row for '{close[0]}' at {self.rows[close[0]]}?"
                if close else "")
        return f"no row of {self.file} names '{segment}', so nobody would receive it{hint}"

    def all_problems(self) -> list[Problem]:
        return [p for found in self.problems.values() for p in found]


def recipient_mapping(loaded: LoadedDefinition, domains: Sequence[str]) -> RecipientMapping:
    """Read the mapping file: segment name -> addresses, and each bad row as a problem of
    its segment (an empty or malformed address, or one outside ``domains``).

    A file that cannot be read, or lacks the named columns, is a FanOutError: it concerns
    every segment.
    """
    definition = loaded.definition
    spec = definition.recipients_from
    fan = definition.fan_out
    assert spec is not None and spec.file is not None and fan is not None
    path = loaded.resolve(spec.file)
    key = spec.key or (fan.by[0] if len(fan.by) == 1 else None)
    keys = [key] if key else list(fan.by)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise FanOutError([Problem("recipients_from.file", f"cannot read {path}: "
                                   f"{exc.strerror}")]) from None
    found = RecipientMapping(str(path))
    out: dict[str, list[str]] = {}
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in [*keys, spec.email] if c not in header]
        if missing:
            raise FanOutError([Problem(
                "recipients_from.file", f"expected column(s) {missing} in the header, found "
                                        f"{header}", Location(str(path), 1))])
        column = header.index(spec.email) + 1
        for row in reader:
            where = Location(str(path), reader.line_num, column)
            name = JOIN.join((row.get(k) or "").strip() for k in keys)
            found.rows.setdefault(name, Location(str(path), reader.line_num))
            value = (row.get(spec.email) or "").strip()
            address = _address(value) if value else None
            problem = None
            if not value:
                problem = "expected an email address, found an empty value"
            elif address is None:
                problem = "expected an email address, found a value that is not one"
            elif not allowed(address, domains):
                problem = (f"expected an address at {' or '.join(domains)}, found one at "
                           f"'{domain_of(address)}'")
            if problem is not None:
                found.problems.setdefault(name, []).append(
                    Problem(f"column '{spec.email}'", problem, where))
            else:
                out.setdefault(name, []).append(address or "")
    found.addresses = {k: tuple(dict.fromkeys(v)) for k, v in out.items()}
    return found


def recipients_in_data(loaded: LoadedDefinition, store: DataStore, segment: Segment,
                       period: Period, domains: Sequence[str]) -> tuple[tuple[str, ...], str | None]:
    """The addresses named in the segment's rows of ``recipients_from.source``, and why the
    segment is refused when any of them is not an allowed address (or none is named).

    Addresses from data are allowed only at ``domains``: an empty list denies them all.
    The reason counts what was refused and quotes none of it.
    """
    spec = loaded.definition.recipients_from
    assert spec is not None and spec.source is not None
    view = SegmentStore(store, segment, segmented_sources(loaded.definition))
    frame = view.rows(spec.source, [spec.email], periods=[period])
    where = f"column '{spec.email}' of source '{spec.source}'"
    values = [str(v).strip() for v in frame[spec.email].dropna().astype(str).unique()]
    values = [v for v in values if v]
    if not values:
        return (), f"no address in {where} for this segment, so nobody would receive it"
    if not domains:
        return (), (f"{len(values)} address(es) in {where} refused: addresses read from data "
                    f"go only to the domains the settings' allowed_domains lists, and it is "
                    f"empty")
    addresses = [a for a in (_address(v) for v in values) if a is not None]
    malformed = len(values) - len(addresses)
    outside = [a for a in addresses if not allowed(a, domains)]
    if malformed or outside:
        parts = [f"{malformed} value(s) that are not email addresses" if malformed else "",
                 f"{len(outside)} address(es) not at {' or '.join(domains)}" if outside else ""]
        return (), (f"{where} holds " + " and ".join(p for p in parts if p)
                    + " (not quoted here: they may be customers')")
    return tuple(sorted(set(addresses))), None


def recipient_problems(loaded: LoadedDefinition,
                       domains: Sequence[str] | None) -> list[Problem]:
    """What ``validate`` finds in a fan-out's recipients: every bad mapping row (checked
    against ``domains`` when the settings are known), a listed segment without a row, and
    addresses from data with no allow-list to check them against."""
    definition = loaded.definition
    spec = definition.recipients_from
    if spec is None or definition.fan_out is None:
        return []
    if spec.source is not None:
        if domains is not None and not domains:
            return [Problem("recipients_from.source", "addresses read from data go only to "
                            "the domains the settings' allowed_domains lists, and it is empty: "
                            "every segment would be refused; list your organisation's domains")]
        return []
    try:
        mapping = recipient_mapping(loaded, domains or ())
    except FanOutError as exc:
        return list(exc.problems)
    problems = mapping.all_problems()
    for value in definition.fan_out.values or ():
        if value not in mapping.problems:
            reason = mapping.refusal(value)
            if reason is not None:
                problems.append(Problem("fan_out.values", f"segment '{value}': {reason}"))
    return problems


def plan_segments(loaded: LoadedDefinition, store: DataStore, period: Period,
                  domains: Sequence[str] = ()) -> list[SegmentPlan]:
    """Every segment of the period (or the listed ones), with its size, recipients, and the
    reason it is skipped if it is."""
    definition = loaded.definition
    spec = definition.fan_out
    assert spec is not None
    counts = segment_counts(store, primary_source(definition), spec.by, period)
    found = {JOIN.join(str(v) for v in key): key for key in counts}
    if spec.values is not None:
        keys = [found.get(v, tuple(v.split(JOIN))) for v in spec.values]
    else:
        keys = sorted(counts, key=lambda k: tuple(str(v) for v in k))
    mapping = (recipient_mapping(loaded, domains)
               if definition.recipients_from and definition.recipients_from.file else None)
    plans = []
    for key in keys:
        segment = Segment(tuple(spec.by), tuple(key))
        n = counts.get(tuple(key), 0)
        skipped = None
        if n < spec.min_rows:
            skipped = (f"{n} row(s) in {period.key}, fewer than fan_out.min_rows "
                       f"({spec.min_rows})")
            plans.append(SegmentPlan(segment, n, skipped))
            continue
        recipients: tuple[str, ...] = ()
        refused = None
        if mapping is not None:
            recipients = mapping.addresses.get(segment.name, ())
            refused = mapping.refusal(segment.name)
        elif definition.recipients_from is not None:
            recipients, refused = recipients_in_data(loaded, store, segment, period, domains)
        if refused is not None:
            recipients = ()
        plans.append(SegmentPlan(segment, n, refused, recipients, refused))
    return plans


# --- each segment's definition ---------------------------------------------------------
