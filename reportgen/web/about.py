"""What the report page says about a report: its schedule in words with the next runs,
who receives it on which channel, who approves it, its gates, the last sent run of each
period, and the newest period its data covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from reportgen import text
from reportgen.definition.document import Definition
from reportgen.definition.schedule_specs import GateSpec
from reportgen.ledger.pauses import Pause
from reportgen.ledger.records import RunRecord
from reportgen.ledger.store import Ledger
from reportgen.period import Period
from reportgen.web.catalog import Entry


def schedule_in_words(cron: str) -> str:
    """``0 7 2 * *`` as "At 07:00, on day 2 of the month" (cron-descriptor)."""
    from cron_descriptor import ExpressionDescriptor, Options

    options = Options()
    options.use_24hour_time_format = True
    try:
        return str(ExpressionDescriptor(cron, options).get_description())
    except Exception:  # the scheduler reports a bad expression itself; show it as written
        return cron


def next_runs(cron: str, timezone: str, now: datetime, count: int = 3) -> list[datetime]:
    """The next ``count`` fire times of ``cron``, in ``timezone``."""
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))
    times: list[datetime] = []
    previous: datetime | None = None
    moment = now
    while len(times) < count:
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        times.append(fire)
        previous, moment = fire, fire
    return times


def gate_in_words(gate: GateSpec) -> str:
    """One gate as a sentence: what it checks and what it does when it fails."""
    share = text.percent(gate.max or 0, 0)
    if gate.kind in ("min_rows", "sample_size"):
        what = f"at least {text.plain(gate.min or 0)} " + (f"rows in {gate.source}" if gate.kind == "min_rows"
                                                  else f"responses behind {gate.metric or gate.source}")
    elif gate.kind == "null_rate":
        what = f"at most {share} of {gate.source}.{gate.column} blank"
    elif gate.kind == "duplicates":
        what = f"at most {share} of {gate.source}.{gate.column} repeated"
    elif gate.kind == "dropped_share":
        what = f"at most {share} of {gate.metric or gate.source} left out as invalid"
    elif gate.kind == "freshness":
        what = (f"{gate.source}'s newest row within {text.plain(gate.max_age_hours or 0)} hours of the "
                f"period's end")
    else:
        what = gate.kind
    return f"{what}; otherwise it {'holds the report' if gate.action == 'hold' else 'warns'}"


@dataclass(frozen=True)
class About:
    """The facts the report page lists."""

    description: str
    owner: str | None
    schedule: str | None
    timezone: str | None
    next: list[datetime]
    paused: bool
    #: paused from this page (by whom, since when); scheduled runs skip it until resumed
    page_pause: Pause | None
    email: list[tuple[str, list[str]]]
    chats: list[str]
    fan_out: str | None
    approvers: list[str] | None
    deadline_hours: float | None
    gates: list[str]
    last_sent: list[tuple[str, RunRecord]]


def about(entry: Entry, ledger: Ledger, now: datetime) -> About | None:
    if entry.loaded is None:
        return None
    definition: Definition = entry.loaded.definition
    schedule = definition.schedule
    timezone = (schedule.timezone or definition.period.timezone) if schedule else None
    page_pause = ledger.pauses.get(entry.report_id)
    upcoming = next_runs(schedule.cron, timezone, now) \
        if schedule and schedule.enabled and timezone and page_pause is None else []
    email: list[tuple[str, list[str]]] = []
    chats: list[str] = []
    if definition.delivery is not None:
        spec = definition.delivery.email
        if spec is not None:
            email = [(role, list(addresses)) for role, addresses in
                     (("to", spec.to), ("cc", spec.cc), ("bcc", spec.bcc)) if addresses]
        chats = [name for name, _ in definition.delivery.channels() if name != "email"]
    fan_out = None
    if definition.fan_out is not None:
        fan_out = "one report per " + " / ".join(definition.fan_out.by)
    approval = definition.approval if definition.approval and definition.approval.required \
        else None
    return About(
        description=definition.description, owner=definition.owner,
        schedule=schedule_in_words(schedule.cron) if schedule else None, timezone=timezone,
        next=upcoming, paused=bool(schedule and not schedule.enabled), page_pause=page_pause,
        email=email, chats=chats, fan_out=fan_out,
        approvers=list(approval.approvers) if approval else None,
        deadline_hours=approval.deadline_hours if approval else None,
        gates=[gate_in_words(g) for g in definition.gates],
        last_sent=last_sent_per_period(ledger.history(entry.report_id, limit=200)))


def last_sent_per_period(runs: list[RunRecord]) -> list[tuple[str, RunRecord]]:
    """Per period, newest first, the newest run delivered to its recipients."""
    sent: dict[str, RunRecord] = {}
    for run in runs:  # newest first
        if any(d.status == "sent" and d.purpose == "delivery" for d in run.deliveries):
            sent.setdefault(run.period, run)
    return sorted(sent.items(), key=lambda item: item[0], reverse=True)


def last_period_with_data(entry: Entry, periods: list[Period]) -> Period | None:
    """The newest of ``periods`` (newest first) in which every source of the report has
    data: at least a tenth of the rows of its typical (median) period, so a month that holds
    only a few late or time-zone-shifted rows does not count.  None when none has (or the
    data cannot be read: the preview then says why)."""
    from statistics import median

    from reportgen.data import DataStore, Window
    from reportgen.plan import resolve

    if entry.loaded is None or not periods:
        return None
    try:
        plan = resolve(entry.loaded)
        oldest_first = list(reversed(periods))
        store = DataStore(entry.loaded.definition.sources,
                          {name: list(source.columns) for name, source in plan.sources.items()},
                          entry.loaded.base_dir, Window(oldest_first[0].start_at,
                                                        oldest_first[-1].end_at),
                          oldest_first)
        with store:
            counts = {name: [store.count(name, p) for p in periods] for name in plan.sources}
        typical = {name: median([c for c in found if c > 0] or [0])
                   for name, found in counts.items()}
        for i, period in enumerate(periods):
            if all(found[i] > 0 and found[i] >= typical[name] / 10
                   for name, found in counts.items()):
                return period
    except Exception:  # noqa: BLE001 - a source that cannot be read is the preview's to report
        return None
    return None
