"""The action register: what is being done about the findings, by whom, by when.

A definition names the register (``actions: {file: actions.yaml}``), a YAML list under
``actions:`` or a CSV with the same columns:

* ``id``, ``finding`` (the finding it answers, in words), ``metric`` (that finding's metric
  id) and optionally ``scope`` (``{queue: Billing}``, or ``queue = Billing`` as a finding
  states it);
* ``action``, ``owner``, ``started`` and ``due`` (dates), ``status`` (open, done, dropped);
* ``kpi`` (the metric id that will show success; the finding's metric when left out) and
  ``target`` (the KPI value that means it worked).

Loading checks every row and reports every problem with its file, line and field.
Assembling (``action_register``) is pure: it flags actions overdue at the period's end,
states the KPI's movement since the action started at the action's own scope (a scoped
action is tracked on the segment, never on the company figure: the before/after estimate of
the intervention finding for that segment, else the segment's breakdown row against the
previous period), and lists the headline findings no open or done action answers ("needs
an owner"; an action answers the findings about its metric and those about its scope).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from reportgen import text
from reportgen.definition.checks import Collector, pydantic_problems
from reportgen.definition.fields import Strict
from reportgen.definition.yaml_loader import LineMap, load_yaml
from reportgen.errors import DefinitionError, Location, Problem
from reportgen.insights.text import scope_phrase
from reportgen.period import Period
from reportgen.plan.model import AnyReportPlan
from reportgen.report.model.metric_results import MetricResult
from reportgen.report.model.report_model import ActionItem, ActionRegister, Readout, ReadoutItem
from reportgen.report.model.sections import Finding

Status = Literal["open", "done", "dropped"]
COLUMNS = ("id", "finding", "metric", "scope", "action", "owner", "started", "due", "status",
           "kpi", "target")
_REQUIRED = ("id", "finding", "metric", "action", "owner", "started", "due", "status", "target")


class ActionSpec(Strict):
    id: str = Field(min_length=1, max_length=40)
    finding: str = Field(min_length=1, max_length=300)
    metric: str
    scope: dict[str, str] = Field(default_factory=dict)
    action: str = Field(min_length=1, max_length=400)
    owner: str = Field(min_length=1, max_length=120)
    started: dt.date
    due: dt.date
    status: Status
    kpi: str | None = None
    target: float

    @field_validator("scope", mode="before")
    @classmethod
    def _scope_mapping(cls, raw: object) -> object:
        """``queue = Billing`` (as a finding states a segment) reads ``{queue: Billing}``."""
        if raw is None or raw == "":
            return {}
        if isinstance(raw, str):
            out: dict[str, str] = {}
            for part in raw.split(","):
                column, sep, value = part.partition("=")
                if not sep or not column.strip() or not value.strip():
                    raise ValueError(f"expected a scope like 'queue = Billing', found {raw!r}")
                out[column.strip()] = value.strip()
            return out
        if isinstance(raw, dict):
            return {str(k): str(v) for k, v in raw.items()}
        return raw

    @property
    def scope_text(self) -> str:
        """The scope as findings state it: ``queue = Billing``."""
        return ", ".join(f"{c} = {v}" for c, v in self.scope.items())

    @model_validator(mode="after")
    def _due_after_start(self) -> ActionSpec:
        if self.due < self.started:
            raise ValueError(f"due date {self.due} is before the start date {self.started}")
        return self

    @property
    def kpi_id(self) -> str:
        return self.kpi or self.metric


class ActionsFile(Strict):
    actions: list[ActionSpec] = Field(default_factory=list)


def load_actions(path: Path, plan: AnyReportPlan) -> tuple[ActionSpec, ...]:
    """Read and check the register against the plan's metrics; raises DefinitionError naming
    every bad field's line."""
    if not path.is_file():
        raise DefinitionError(str(path), [Problem("actions.file", "the action register does not "
                                                  "exist; expected a YAML or CSV file")])
    if path.suffix.lower() == ".csv":
        specs, problems = _from_csv(path)
    else:
        specs, problems = _from_yaml(path)
    metric_ids = {m.spec.id for m in plan.metrics}
    seen: set[str] = set()
    for index, spec, where in specs:
        for field in ("metric", "kpi"):
            value = getattr(spec, field)
            if value is not None and value not in metric_ids:
                problems.append(Problem(f"actions[{index}].{field}",
                                        f"expected a metric id of the definition "
                                        f"({', '.join(sorted(metric_ids))}), found '{value}'",
                                        where))
        if spec.id in seen:
            problems.append(Problem(f"actions[{index}].id",
                                    f"expected a unique id, found '{spec.id}' twice", where))
        seen.add(spec.id)
    if problems:
        raise DefinitionError(str(path), problems)
    return tuple(spec for _, spec, _ in specs)


def _from_yaml(path: Path) -> tuple[list[tuple[int, ActionSpec, Location]], list[Problem]]:
    loaded = load_yaml(path)
    out = Collector(loaded.lines)
    data = loaded.data
    if not isinstance(data, dict):
        return [], [Problem("", "expected a mapping with an 'actions:' list",
                            Location(str(path), 1))]
    try:
        register = ActionsFile.model_validate(data)
    except ValidationError as exc:
        pydantic_problems(exc, out, ActionsFile)
        return [], out.problems
    return [(i, spec, _where(loaded.lines, i)) for i, spec in enumerate(register.actions)], []


def _where(lines: LineMap, index: int) -> Location:
    return lines.locate(("actions", index))


def _from_csv(path: Path) -> tuple[list[tuple[int, ActionSpec, Location]], list[Problem]]:
    file = str(path)
    problems: list[Problem] = []
    specs: list[tuple[int, ActionSpec, Location]] = []
    try:
        body = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem("", f"expected a readable UTF-8 CSV file, found {exc}",
                            Location(file))]
    try:
        reader = csv.DictReader(io.StringIO(body, newline=""))
        header = reader.fieldnames or []
        rows = list(reader)
    except csv.Error as exc:
        return [], [Problem("", f"expected CSV, found {exc}", Location(file, reader.line_num))]
    missing = [c for c in _REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        found = ", ".join(header) or "no header"
        return [], [Problem("header", f"expected the columns {', '.join(COLUMNS)} "
                            f"(optional: scope, kpi), found {found}", Location(file, 1))]
    for index, row in enumerate(rows):
        line = index + 2  # the header is line 1
        raw = {k: v for k, v in row.items() if k is not None and v not in (None, "")}
        try:
            spec = ActionSpec.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                field = str(error["loc"][0]) if error["loc"] else ""
                column = header.index(field) + 1 if field in header else None
                message = error["msg"].removeprefix("Value error, ")
                found = f", found {error['input']!r}" if error["type"] not in (
                    "value_error", "missing") else ""
                problems.append(Problem(f"row {index + 1}" + (f", {field}" if field else ""),
                                        f"{message[0].lower()}{message[1:]}{found}",
                                        Location(file, line, column)))
            continue
        specs.append((index, spec, Location(file, line)))
    return specs, problems


def _value_before(result: MetricResult, day: dt.date, grain: str) -> tuple[float | None, str]:
    """The metric's value in the last period before the one containing ``day``: the
    baseline an action started from (its own first period is already partly affected)."""
    before = [p for p in result.history if p.start <= day]
    known = [p for p in before[:-1] if p.value is not None]
    if known:
        point = known[-1]
    else:
        known = [p for p in result.history if p.value is not None]
        if not known:
            return None, ""
        point = known[0]
    return point.value, text.period_label(grain, point.start)


def _reached(value: float, target: float, direction: str) -> bool:
    return value >= target if direction == "higher" else value <= target


def _moved(label: str, start: float, now: float, unit: str, direction: str,
           since: str) -> tuple[str, str]:
    """``QA score rose 7.7 points {since}: 78.7 before, 86.4 now`` and its tone; the change
    is the difference of the two values as shown."""
    delta = text.shown_difference(now, start, unit)
    if delta == 0:
        return f"{label} unchanged {since}: {text.value_words(now, unit)}", "neutral"
    better = (delta > 0) == (direction == "higher")
    return (f"{label} {'rose' if delta > 0 else 'fell'} {text.change_words(delta, unit)} {since}"
            f": {text.value_words(start, unit)} {{before}}, {text.value_words(now, unit)} "
            f"{{now}}"), ("good" if better else "bad")


def _scoped(spec: ActionSpec, result: MetricResult, findings: Sequence[Finding],
            period: Period) -> tuple[str, str, float | None]:
    """A scoped action's KPI at its own scope: (movement, tone, the scope's value now)."""
    label = f"{result.label}{scope_phrase(dict(spec.scope))}"
    for finding in findings:
        numbers = finding.numbers
        if (finding.kind == "intervention" and finding.metric_id == result.metric_id
                and {str(k): str(v) for k, v in (numbers.get("scope") or {}).items()}
                == spec.scope and numbers.get("value_before") is not None
                and numbers.get("value_after") is not None):
            before, after = float(numbers["value_before"]), float(numbers["value_after"])
            moved, tone = _moved(label, before, after, result.unit, result.direction,
                                 "after the change")
            return moved.format(before="before", now="after") + ".", tone, after
    if len(spec.scope) == 1:
        ((column, wanted),) = spec.scope.items()
        found = (_scoped_row(result, column, wanted)
                 or _scoped_detail(result, column, wanted, period.grain))
        if found is not None:
            value, previous, against = found
            if previous is None:
                return f"{label} is {text.value_words(value, result.unit)} now.", "neutral", \
                    value
            moved, tone = _moved(label, previous, value, result.unit, result.direction,
                                 f"since {against}")
            return moved.format(before=f"in {against}", now="now") + ".", tone, value
    return (f"No {result.label} figure{scope_phrase(dict(spec.scope))} in this report, so its "
            f"progress is not tracked here.", "neutral", None)


def _scoped_row(result: MetricResult, column: str, wanted: str
                ) -> tuple[float, float | None, str] | None:
    """The metric's breakdown row for one segment: (now, the compared period's value or
    None, that period's label)."""
    row = next((r for r in result.breakdowns.get(column, ()) if r.key == (wanted,)), None)
    if row is None or row.value is None:
        return None
    change = row.change
    if change is None or change.previous is None:
        return row.value, None, ""
    return row.value, change.previous, change.against


def _scoped_detail(result: MetricResult, column: str, wanted: str, grain: str
                   ) -> tuple[float, float | None, str] | None:
    """The metric's value for one member of a group a breakdown cannot give (an auditor
    of a calibration, against the calibrator): (now, the period before or None, that
    period's label), from the calculator's ``details["scoped"]``."""
    scoped = (result.details or {}).get("scoped") or {}
    columns = [c for c in scoped if c == column or {c, column} <= _PEOPLE]
    entry = next((scoped[c][wanted] for c in columns if wanted in scoped[c]), None)
    if entry is None or entry.get("value") is None:
        return None
    before = entry.get("previous")
    point = next((p for p in result.history if p.period == entry.get("previous_period")), None)
    if before is None or point is None:
        return float(entry["value"]), None, ""
    return float(entry["value"]), float(before), text.period_label(grain, point.start)


def _item(spec: ActionSpec, metrics: Mapping[str, MetricResult], period: Period,
          findings: Sequence[Finding] = ()) -> ActionItem:
    result = metrics.get(spec.kpi_id)
    overdue = spec.status == "open" and spec.due < period.end
    label = result.label if result else spec.kpi_id
    unit = result.unit if result else "number"
    target_text = f"Target {text.value(spec.target, unit)}"
    movement, tone, reached = "No value yet to compare.", "neutral", None
    if result is not None and spec.scope:
        movement, tone, now = _scoped(spec, result, findings, period)
        if now is not None:
            reached = _reached(now, spec.target, result.direction)
            movement += " Target reached." if reached else " Not yet at target."
    elif result is not None and result.value is not None and not result.suppressed:
        start, start_label = _value_before(result, spec.started, period.grain)
        reached = _reached(result.value, spec.target, result.direction)
        shown_now = text.value_words(result.value, unit)
        if start is None:
            movement = f"{label} is {shown_now} now."
        else:
            moved, tone = _moved(label, start, result.value, unit, result.direction,
                                 "since the action started")
            movement = moved.format(before=f"in {start_label}", now="now") + "."
        movement += " Target reached." if reached else " Not yet at target."
    status_text = "Overdue" if overdue else {"open": "Open", "done": "Done",
                                             "dropped": "Dropped"}[spec.status]
    return ActionItem(id=spec.id, finding=spec.finding, metric_id=spec.metric,
                      action=spec.action, owner=spec.owner, due_text=text.day(spec.due),
                      status=spec.status, status_text=status_text, overdue=overdue,
                      kpi_label=label, target_text=target_text, movement_text=movement,
                      tone=tone, on_target=reached,  # type: ignore[arg-type]
                      scope=spec.scope_text, due=spec.due, target=spec.target)


def _answers(spec: ActionSpec, finding: Finding) -> bool:
    """An action answers every finding about its metric (fixing the Billing queue is the
    answer to CSAT's overall fall too) and every finding about its scope (AU07's
    recalibration answers AU07's reviewer bias too).  A dropped action answers nothing."""
    if spec.status == "dropped":
        return False
    return spec.metric == finding.metric_id or (bool(spec.scope)
                                                and _same_scope(spec.scope, finding.scope))


#: Columns naming one person in different roles (AU07 audits, reviews and rates).
_PEOPLE = frozenset({"auditor", "reviewer", "rater", "agent", "agent_id", "auditor_id"})


def _same_scope(scope: Mapping[str, str], finding_scope: str) -> bool:
    """Whether a finding's scope (``reviewer = AU07``) is the action's (``{auditor: AU07}``)."""
    parts = dict(part.partition(" = ")[::2] for part in finding_scope.split(", "))
    if parts.keys() == scope.keys():
        return parts == dict(scope)
    if len(parts) == len(scope) == 1:
        ((column, value),), ((other, wanted),) = parts.items(), scope.items()
        return column in _PEOPLE and other in _PEOPLE and value == wanted
    return False


def action_register(specs: Sequence[ActionSpec], metrics: Mapping[str, MetricResult],
                    findings: Sequence[Finding], period: Period, source: str = "") -> ActionRegister:
    """The register for ``period``: every action's status and KPI movement, and the
    bad-news ``findings`` no action answers, named by metric and scope (the sentences
    themselves are printed once, where they belong)."""
    items = tuple(_item(spec, metrics, period, findings) for spec in specs
                  if spec.started < period.end)  # an action planned for later is not news yet
    unowned: dict[str, None] = {}
    for finding in findings:
        if finding.tone == "bad" and not any(_answers(spec, finding) for spec in specs):
            metric = metrics.get(finding.metric_id)
            label = metric.label if metric else finding.metric_id
            unowned[f"{label} ({finding.tag})" if finding.tag else label] = None
    return ActionRegister(items=items, unowned=tuple(unowned), source=source)


def overdue_line(register: ActionRegister | None) -> str:
    """The register in one line for a message: ``4 open actions, 2 overdue: Rewrite the
    refund macros (Billing team lead, due Sep 25, 2026); ...``; empty with no open action."""
    opened = register.open if register else ()
    if not opened:
        return ""
    late = [i for i in opened if i.overdue]
    head = text.plural(len(opened), "open action")
    if not late:
        return f"{head}, none overdue."
    return (f"{head}, {text.count(len(late))} overdue: "
            + "; ".join(f"{i.action} ({i.owner}, due {i.due_text})" for i in late) + ".")


#: A readout slide is read in under a minute.
READOUT_MAX = 5


def ask_text(item: ActionItem) -> str:
    """An open action that needs a decision, phrased as the decision."""
    if item.overdue:
        return (f"Decide: extend '{item.action}' ({item.owner}) past its due date of "
                f"{item.due_text}, or add people to finish it? {item.movement_text}")
    return (f"Decide: keep '{item.action}' ({item.owner}, due {item.due_text}) as planned, "
            f"or escalate? {item.kpi_label} is not yet at target ({item.target_text.lower()}).")


def readout(findings: Sequence[Finding], register: ActionRegister | None) -> Readout:
    """Wins (good news and finished actions), risks (bad news), initiatives (open actions)
    and asks (open actions overdue or off target) from the findings shown and the register."""
    items = register.items if register else ()
    done = [i for i in items if i.status == "done"]
    wins: list[ReadoutItem] = []
    told: set[str] = set()
    for f in findings:
        if f.tone != "good":
            continue
        # a finished action about the same change is one win: the finding states the change
        with_action = [i for i in done if i.metric_id == f.metric_id and i.scope
                       and i.scope == f.scope and i.id not in told]
        told.update(i.id for i in with_action)
        wins.append(ReadoutItem(" ".join([f.sentence, *(f"Done: {i.action} ({i.owner})."
                                                        for i in with_action)]), "good"))
    wins += [ReadoutItem(f"Done: {i.action} ({i.owner}). {i.movement_text}", "good")
             for i in done if i.id not in told]
    # A metric at risk of missing its target is a risk too, in its own (warning) colour.
    risks = [ReadoutItem(f.sentence, "bad" if f.tone == "bad" else "warning")
             for f in findings if f.tone in ("bad", "warning")]
    initiatives = [ReadoutItem(f"{i.action}: {i.owner}, due {i.due_text}"
                               f"{' (overdue)' if i.overdue else ''}. {i.movement_text}",
                               "bad" if i.overdue else "neutral")
                   for i in items if i.status == "open"]
    asks = [ReadoutItem(ask_text(i), "bad" if i.overdue else "warning")
            for i in items if i.status == "open" and (i.overdue or i.on_target is False)]
    return Readout(wins=tuple(wins[:READOUT_MAX]), risks=tuple(risks[:READOUT_MAX]),
                   initiatives=tuple(initiatives), asks=tuple(asks))
