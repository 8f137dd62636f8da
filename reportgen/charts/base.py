"""What every chart builder receives and returns, and the errors charts raise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from reportgen.errors import InputError

if TYPE_CHECKING:  # types only: validating a definition need not load the model
    from reportgen.report.model.metric_results import BreakdownRow, MetricResult
    from reportgen.report.model.report_model import Theme
    from reportgen.report.model.sections import Figure


@dataclass(frozen=True)
class ChartRequest:
    """One chart to draw: where it goes, what it shows, and how it looks."""

    id: str
    title: str
    metrics: tuple[MetricResult, ...]  # primary metric first
    theme: Theme
    period_label: str  # e.g. "October 2026"
    #: draw a PNG beside the SVG (slides place it; the PDF, the web page and the workbook
    #: use the SVG or no image)
    raster: bool = True

    @property
    def metric(self) -> MetricResult:
        """The primary metric (the first one)."""
        return self.metrics[0]


@runtime_checkable
class ChartBuilder(Protocol):
    """A named chart: a params model, a one-line description and a ``build`` method."""

    # Read-only, so a builder's class attributes may be narrower (its own Params model).
    @property
    def name(self) -> str: ...
    @property
    def Params(self) -> type[BaseModel]: ...
    @property
    def description(self) -> str: ...

    # ``params`` is an instance of the builder's own ``Params``: the plan validated it.
    def build(self, request: ChartRequest, params: Any) -> Figure: ...


class ChartError(InputError, ValueError):
    """A chart cannot be drawn from what the definition gave it."""

    def __init__(self, chart_id: str, kind: str, problem: str):
        self.chart_id = chart_id
        self.kind = kind
        self.problem = problem
        super().__init__(f"chart '{chart_id}' ({kind}): {problem}")


class ChartDataError(ChartError):
    """A metric lacks the data a chart draws (a breakdown, a details entry...)."""

    def __init__(self, request: ChartRequest, kind: str, expected: str, found: str):
        self.metric_id = request.metric.metric_id if request.metrics else ""
        self.expected = expected
        self.found = found
        super().__init__(
            request.id,
            kind,
            f"metric '{self.metric_id}' does not provide {expected}; found {found}",
        )


class ChartParams(BaseModel):
    """Base of every chart's params: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def breakdown_rows(request: ChartRequest, kind: str, by: str) -> tuple[BreakdownRow, ...]:
    """The primary metric's breakdown named ``by``, or a ChartDataError listing the names."""
    breakdowns = request.metric.breakdowns
    # Accept "queue, category" as well as "queue,category": both read the same in YAML.
    wanted = ",".join(part.strip() for part in by.split(","))
    if wanted in breakdowns:
        return tuple(breakdowns[wanted])
    available = ", ".join(f"'{name}'" for name in breakdowns) or "no breakdowns"
    raise ChartDataError(
        request, kind, expected=f"a breakdown by '{wanted}'", found=f"{available}"
    )


def require_details(request: ChartRequest, kind: str, key: str, shape: str) -> Any:
    """``metric.details[key]``, or a ChartDataError saying what shape was expected."""
    details = request.metric.details
    if key not in details or details[key] is None:
        found = ", ".join(f"'{k}'" for k in details) or "none"
        raise ChartDataError(
            request, kind, expected=f"details['{key}'] ({shape})", found=f"details keys: {found}"
        )
    return details[key]


def field_of(request: ChartRequest, kind: str, item: Any, key: str, where: str) -> Any:
    """``item[key]`` from a details entry, or a ChartDataError naming the entry."""
    if not isinstance(item, dict) or key not in item:
        keys = ", ".join(f"'{k}'" for k in item) if isinstance(item, dict) else type(item).__name__
        raise ChartDataError(request, kind, expected=f"'{key}' in each {where}", found=keys)
    return item[key]


def check_sequence(request: ChartRequest, kind: str, value: Any, where: str) -> Sequence[Any]:
    """Return ``value`` if it is a list or tuple, else a ChartDataError."""
    if not isinstance(value, list | tuple):
        raise ChartDataError(
            request, kind, expected=f"{where} as a list", found=type(value).__name__
        )
    return value


def is_shown(row: BreakdownRow) -> bool:
    """Whether a breakdown row has a value a chart may draw (not suppressed, not empty)."""
    return row.value is not None and row.suppressed is None


def by_columns(by: str) -> list[str]:
    """The breakdown's column names: ``"queue,channel"`` -> ``["queue", "channel"]``."""
    return [part.strip() for part in by.split(",")]


def by_words(by: str) -> str:
    """The breakdown as prose: ``queue``, ``queue and channel``."""
    names = [name.replace("_", " ") for name in by_columns(by)]
    return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]


def hidden_note(rows: Sequence[BreakdownRow], what: str = "Not shown") -> str:
    """``Not shown: Legal (n = 4 < 30).`` for suppressed rows, or an empty string."""
    hidden = [r for r in rows if not is_shown(r)]
    if not hidden:
        return ""
    listed = "; ".join(f"{r.label} ({r.suppressed or 'no value'})" for r in hidden)
    return f"{what}: {listed}."


def empty_breakdown(metric: MetricResult, by: str, rows: Sequence[BreakdownRow]
                    ) -> dict[str, str]:
    """The panel message, caption note and caption of a breakdown chart with nothing to
    draw (``no_data_figure``'s keywords).

    When every segment was suppressed for its small n, the caption says so once and names
    the grain that would have enough (not "No data": there is data, too little of it per
    segment); otherwise the default message, with the segments left out in the note.
    """
    if rows and all(r.suppressed for r in rows):
        from reportgen.text import plural_noun, terms

        sentence = terms.all_suppressed(by_words(by), [r.n for r in rows], metric.min_n,
                                        metric.grain, metric.n_noun)
        return {"message": f"Too few {plural_noun(metric.n_noun)} for each {by_words(by)}",
                "caption": f"{sentence}."}
    return {"note": hidden_note(rows)}
