"""Fan-out: one report per segment (queue, site, vendor, team lead) from one pass over the data.

A fan-out report reads its data once.  Every aggregate request gets the segment columns
added to its grouping sets, so one statement per source and filter returns the figures of
every segment at once; ``SegmentStore`` then answers each segment's requests by slicing
that result (the statement is the same for every segment, so the store's cache runs it
once).  Row-path metrics read their rows once with the segment columns and split them in
pandas.  Sources that do not have the segment columns (calibration sessions, say) are
organisation-wide and shown whole in every segment's report.

Gates are about the feed, not a segment: they are checked once, on the whole data.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from reportgen.data.aggregates import Request, Result
from reportgen.data.canonical import PERIOD
from reportgen.errors import InputError, Problem
from reportgen.run.segment_content import narrowed

if TYPE_CHECKING:
    import pandas as pd

    from reportgen.data.store import DataStore
    from reportgen.definition import LoadedDefinition
    from reportgen.definition.document import Definition
    from reportgen.period import Period

#: joins the values of a multi-column segment in its name ("EMEA / Billing")
JOIN = " / "
#: separates the report id from the segment in a segment report's id ("monthly-quality--billing")
ID_SEPARATOR = "--"


class FanOutError(InputError):
    """A fan-out or its recipient mapping is wrong; ``problems`` are located."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the fan-out\n{lines}")


@dataclass(frozen=True)
class Segment:
    """One value (or combination of values) of the fan-out columns."""

    columns: tuple[str, ...]
    values: tuple[Any, ...]

    @property
    def name(self) -> str:
        return JOIN.join(str(v) for v in self.values)

    @property
    def slug(self) -> str:
        text = re.sub(r"[^A-Za-z0-9]+", "-", "-".join(str(v) for v in self.values)).strip("-")
        return text.lower() or "blank"

    @property
    def where(self) -> dict[str, Any]:
        return dict(zip(self.columns, self.values, strict=True))


@dataclass(frozen=True)
class SegmentPlan:
    """A segment and why it is (not) made: ``skipped`` holds the reason when it is not."""

    segment: Segment
    rows: int
    skipped: str | None = None
    recipients: tuple[str, ...] = ()
    #: why its recipients are refused (a bad or missing one): it is not made either, and
    #: the run is partial
    refused: str | None = None


def segmented_sources(definition: Definition) -> frozenset[str]:
    """Sources that declare every fan-out column; the others are shown whole."""
    spec = definition.fan_out
    if spec is None:
        return frozenset()
    return frozenset(name for name, source in definition.sources.items()
                     if all(c in source.columns for c in spec.by))


def check_fan_out(definition: Definition) -> None:
    """The fan-out names columns some source has (located error otherwise)."""
    spec = definition.fan_out
    if spec is None:
        if definition.recipients_from is not None:
            raise FanOutError([Problem("recipients_from", "is only used with fan_out")])
        return
    segmented = segmented_sources(definition)
    if not segmented:
        raise FanOutError([Problem(
            "fan_out.by", f"no source declares every column of {list(spec.by)} in its "
                          f"'columns'; declare them on the sources to split")])
    if spec.source is not None and spec.source not in segmented:
        raise FanOutError([Problem("fan_out.source", f"source '{spec.source}' does not declare "
                                   f"{list(spec.by)} (sources that do: {sorted(segmented)})")])


def primary_source(definition: Definition) -> str:
    spec = definition.fan_out
    assert spec is not None
    if spec.source:
        return spec.source
    segmented = segmented_sources(definition)
    return next(name for name in definition.sources if name in segmented)


# --- the one data pass ----------------------------------------------------------------------
def _augment(columns: tuple[str, ...], group: tuple[str, ...]) -> tuple[str, ...]:
    return (*columns, *(c for c in group if c not in columns))


def _by_segment(requests: Sequence[Request], columns: tuple[str, ...]) -> list[Request]:
    """The requests with the segment columns leading every grouping set."""
    return [replace(r, sets=tuple(dict.fromkeys(_augment(columns, s) for s in r.sets)))
            for r in requests]


def read_segments(store: DataStore, segments: Sequence[Segment], segmented: frozenset[str],
                  requests: Mapping[str, Sequence[Request]]) -> None:
    """Run, once, the statements that answer ``requests`` for every segment (the store
    caches them, so each ``SegmentStore`` then only slices)."""
    if not segments:
        return
    columns = segments[0].columns
    for source, asked in requests.items():
        if source in segmented:
            store.aggregate(source, _by_segment(asked, columns))


class SharedRows:
    """The rows a fan-out's reports ask for, each request read once for all of them.

    The whole report's rows requests (``DataStore.rows_reader``) and every segment's go
    through here.  A request is read the first time it is asked, with the segment columns
    added when its source is split, and kept until the fan-out is built; each segment then
    takes its rows by a split made once per request, and a source that is not split is
    the same frame for every report.  Reports get their own frame object (pandas copies
    on write), so none sees another's changes.
    """

    def __init__(self, store: DataStore, segmented: frozenset[str], columns: Sequence[str]):
        self.store = store
        self.segmented = segmented
        self.columns = tuple(columns)
        self.reads = 0
        self._frames: dict[tuple[Any, ...], pd.DataFrame] = {}
        self._splits: dict[tuple[Any, ...], dict[Any, Any]] = {}
        self._locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._guard = threading.Lock()

    def _frame(self, source: str, columns: Sequence[str], where: Mapping[str, Any] | None,
               periods: Sequence[Period] | None) -> tuple[tuple[Any, ...], pd.DataFrame]:
        key = (source, tuple(columns), repr(sorted((where or {}).items())),
               None if periods is None else tuple(p.key for p in periods))
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # sources are read on several threads: each request once
            if key not in self._frames:
                wanted = [*columns, *self.columns] if source in self.segmented else columns
                self._frames[key] = self.store.read_rows(source, wanted, where, periods)
                self.reads += 1
            return key, self._frames[key]

    def _extra(self, source: str, columns: Sequence[str]) -> list[str]:
        if source not in self.segmented:
            return []
        return [c for c in self.columns if c not in columns and c != PERIOD]

    def whole(self, source: str, columns: Sequence[str],
              where: Mapping[str, Any] | None = None,
              periods: Sequence[Period] | None = None) -> pd.DataFrame:
        """The rows as the whole report reads them (``DataStore.rows``)."""
        _, frame = self._frame(source, columns, where, periods)
        extra = self._extra(source, columns)
        return frame.drop(columns=extra) if extra else frame.copy(deep=False)

    def segment(self, segment: Segment, source: str, columns: Sequence[str],
                where: Mapping[str, Any] | None = None,
                periods: Sequence[Period] | None = None) -> pd.DataFrame:
        """One segment's rows of the request."""
        key, frame = self._frame(source, columns, where, periods)
        if source not in self.segmented:
            return frame.copy(deep=False)
        with self._locks[key]:
            groups = self._splits.get(key)
            if groups is None:
                groups = self._splits[key] = _split(frame, segment.columns)
        wanted = (tuple(str(v) for v in segment.values) if len(segment.columns) > 1
                  else str(segment.values[0]))
        found = groups.get(wanted)
        kept = frame.take(found) if found is not None else frame.iloc[0:0]
        extra = self._extra(source, columns)
        return kept.drop(columns=extra).reset_index(drop=True)


def _split(frame: pd.DataFrame, columns: Sequence[str]) -> dict[Any, Any]:
    """Row positions per segment value (as text, as segments are named; in frame order)."""
    keys = [frame[c].astype("string") for c in columns]
    return dict(frame.groupby(keys if len(keys) > 1 else keys[0], sort=False,
                              dropna=True, observed=True).indices)


class SegmentStore:
    """One segment's view of a whole report's DataStore (the interface the pipeline reads)."""

    def __init__(self, whole: DataStore, segment: Segment, segmented: frozenset[str],
                 shared: SharedRows | None = None):
        self.whole = whole
        self.segment = segment
        self.segmented = segmented
        self.shared = shared
        self.specs = whole.specs
        self.periods = whole.periods
        self.period_index = whole.period_index
        self.quality = whole.quality

    # aggregates: the segment columns lead every grouping set, the result is sliced
    def aggregate(self, source: str, requests: Sequence[Request]) -> Result:
        if source not in self.segmented:
            return self.whole.aggregate(source, requests)
        cols = self.segment.columns
        full = self.whole.aggregate(source, _by_segment(requests, cols))
        wanted = {s for r in requests for s in r.sets}
        out: dict[tuple[tuple[str, ...], int, tuple[Any, ...]], dict[str, Any]] = {}
        for group in wanted:
            big = _augment(cols, group)
            for (got, period, key), values in full.rows.items():
                if got != big or key[:len(cols)] != self.segment.values:
                    continue
                by_column = dict(zip(big, key, strict=True))
                out[(group, period, tuple(by_column[c] for c in group))] = values
        return Result(out)

    def rows(self, source: str, columns: Sequence[str], where: Mapping[str, Any] | None = None,
             periods: Sequence[Period] | None = None) -> pd.DataFrame:
        if self.shared is not None:
            return self.shared.segment(self.segment, source, columns, where, periods)
        if source not in self.segmented:
            return self.whole.rows(source, columns, where, periods)
        cols = self.segment.columns
        frame = self.whole.rows(source, [*columns, *cols], where, periods)
        mask = None
        for column, value in zip(cols, self.segment.values, strict=True):
            hit = (frame[column].astype("string") == str(value)).fillna(False)
            mask = hit if mask is None else mask & hit
        kept = frame[mask.to_numpy(dtype=bool)] if mask is not None else frame
        extra = [c for c in cols if c not in columns and c != PERIOD]
        return kept.drop(columns=extra).reset_index(drop=True)

    def count(self, source: str, period: Period) -> int:
        if source not in self.segmented:
            return self.whole.count(source, period)
        counts = segment_counts(self.whole, source, self.segment.columns, period)
        return counts.get(self.segment.values, 0)

    # facts about the feed (gates) are the whole source's
    def null_count(self, source: str, column: str, period: Period) -> tuple[int, int]:
        return self.whole.null_count(source, column, period)

    def duplicate_count(self, source: str, column: str, period: Period) -> tuple[int, int]:
        return self.whole.duplicate_count(source, column, period)

    def newest(self, source: str) -> Any:
        return self.whole.newest(source)

    def fingerprint(self, source: str) -> str:
        return self.whole.fingerprint(source)

    def data_fingerprints(self) -> dict[str, str]:
        return self.whole.data_fingerprints()


def segment_counts(store: DataStore, source: str, columns: Sequence[str],
                   period: Period) -> dict[tuple[Any, ...], int]:
    """Rows per segment of ``source`` in ``period`` (one grouped statement, cached)."""
    handle = store.source(source)
    rows = handle.canonical.rows
    keys = [rows.c[c] for c in columns]
    statement = (sa.select(*keys, sa.func.count()).select_from(rows)
                 .where(rows.c[PERIOD] == store.period_index(period),
                        *(k.is_not(None) for k in keys))
                 .group_by(*keys))
    _, fetched = store._execute(handle, statement)
    return {tuple(row[:-1]): int(row[-1]) for row in fetched}


# --- which segments, and to whom --------------------------------------------------------
def segment_definition(loaded: LoadedDefinition, plan: SegmentPlan) -> LoadedDefinition:
    """The whole report's definition as this segment's: its id, title, file names and
    recipients, and its content narrowed to the segment (``segment_content.narrowed``)."""
    segment = plan.segment
    definition = narrowed(loaded.definition, segment.where,
                          segmented_sources(loaded.definition))
    spec = definition.fan_out
    assert spec is not None
    report_id = segment_report_id(definition.id, segment)
    update: dict[str, Any] = {
        "id": report_id,
        "title": spec.title.format(title=definition.title, segment=segment.name),
        "schedule": None,
        "fan_out": None,
    }
    delivery = definition.delivery
    if delivery is not None and delivery.email is not None:
        if plan.recipients:
            email = delivery.email.model_copy(update={
                "to": list(plan.recipients), "cc": [], "bcc": []})
            update["delivery"] = delivery.model_copy(update={"email": email})
        else:
            update["delivery"] = delivery.model_copy(update={"email": None})
    return replace(loaded, definition=definition.model_copy(update=update))


def segment_report_id(report_id: str, segment: Segment) -> str:
    """The ledger's id of a segment's report: unique per (report, segment), at most 64."""
    import hashlib

    full = f"{report_id}{ID_SEPARATOR}{segment.slug}"
    if len(full) <= 64:
        return full
    digest = hashlib.sha256(segment.name.encode()).hexdigest()[:8]
    return f"{full[:55]}-{digest}"


def whole_label(definition: Definition) -> str:
    """How a segment report names the whole ("all queues")."""
    spec = definition.fan_out
    assert spec is not None
    return f"all {spec.by[0]}s" if len(spec.by) == 1 else "all segments"


def comparison(definition: Definition, whole: Mapping[str, Any], label: str,
               unsplit: Collection[str] = ()) -> str:
    """The whole's values of the KPIs the segment reports show, in the sections' order, for
    the company-wide block of each (``For comparison with this queue's figures, all queues:
    CSAT 84.1%, NPS 31.``), written by the text authority; empty when there are none.
    ``unsplit`` metrics are the whole's in the segment's report already, and not repeated.
    A company figure beside a queue's own would read as the queue's, so it is said only in
    that block."""
    from reportgen import text

    spec = definition.fan_out
    assert spec is not None
    ids = dict.fromkeys(k for section in definition.sections for k in section.kpis
                        if k in whole and k not in unsplit)
    values = [f"{whole[k].label} {text.value(whole[k].value, whole[k].unit)}" for k in ids]
    if not values:
        return ""
    noun = text.humanise(spec.by[0]) if len(spec.by) == 1 else "segment"
    return f"For comparison with this {noun}'s figures, {label}: {', '.join(values)}."


def only_segment(loaded: LoadedDefinition, segment: str) -> LoadedDefinition:
    """``loaded`` narrowed to one segment (by its name), without the whole report."""
    definition = loaded.definition
    spec = definition.fan_out
    assert spec is not None
    narrowed = spec.model_copy(update={"values": [segment], "include_whole": False})
    return replace(loaded, definition=definition.model_copy(update={"fan_out": narrowed}))
