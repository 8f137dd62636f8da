"""When a report runs and what holds it back, as typed models of its YAML: the schedule and its
retries, approval, and data-quality gates.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from reportgen.definition.delivery_specs import Address
from reportgen.definition.fields import CRON_HORIZON_YEARS, YEAR_MINUTES, Strict, known_zone


class RetrySpec(Strict):
    every_minutes: float = Field(60, ge=1, le=YEAR_MINUTES, description="First wait before retrying a held run.")
    backoff: float = Field(2.0, ge=1, le=10, description="Each wait is this many times the previous one.")
    max_wait_minutes: float = Field(24 * 60, ge=1, le=YEAR_MINUTES)
    deadline_hours: float = Field(72, gt=0, le=YEAR_MINUTES / 60, description="Give up (and tell the owner) this long after the first attempt.")


class ScheduleSpec(Strict):
    cron: str = Field(max_length=200, description="Crontab expression (minute hour day month weekday), e.g. '0 7 2 * *'.")
    timezone: str | None = Field(None, description="Timezone of the cron expression; defaults to period.timezone.")
    grace_minutes: float = Field(24 * 60, gt=0, le=YEAR_MINUTES, description="A run missed while the scheduler was down still runs, once, if it comes back within this time.")
    retry: RetrySpec = RetrySpec()
    enabled: bool = True
    deliver_by: str | None = Field(
        None, description="Deadline for the report to be delivered, from the scheduled time: "
                          "a duration ('6h', '90m') after it, or a local time ('09:30', in the "
                          "schedule's timezone) at or after it. The owner is alerted once if "
                          "it has not gone out by then.")

    @field_validator("deliver_by")
    @classmethod
    def _valid_deadline(cls, value: str | None) -> str | None:
        from reportgen.definition.deadline import parse_deliver_by

        if value is not None:
            parse_deliver_by(value)  # raises ValueError with what was expected
        return value

    @field_validator("timezone")
    @classmethod
    def known_zone(cls, value: str | None) -> str | None:
        return None if value is None else known_zone(value)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        """A crontab APScheduler parses and that fires within CRON_HORIZON_YEARS years."""
        from apscheduler.triggers.cron import CronTrigger

        try:
            trigger = CronTrigger.from_crontab(value, timezone="UTC")
        # APScheduler reports most mistakes as ValueError, some (odd field text) otherwise
        except Exception as exc:
            raise ValueError(f"not a valid crontab expression ({exc})") from None
        now = dt.datetime.now(dt.UTC)
        try:
            first = trigger.get_next_fire_time(None, now)
        except (OverflowError, ValueError):
            first = None
        horizon = now + dt.timedelta(days=366 * CRON_HORIZON_YEARS)
        if first is None or first > horizon:
            raise ValueError(f"crontab expression '{value}' never fires (not within "
                             f"{CRON_HORIZON_YEARS} years); check the day and month fields")
        return value


class ApprovalSpec(Strict):
    required: bool = Field(False, description="Runs that would send wait, 'pending_approval', until an approver approves them on the web page.")
    approvers: list[Address] = Field(default_factory=list, description="E-mail addresses of the web page's users who may approve; they are told when a run waits. Empty: anyone with the approver role.")
    deadline_hours: float = Field(24, gt=0, le=YEAR_MINUTES / 60, description="The owner is alerted once if a run still waits this long after it was built.")


class GateSpec(Strict):
    kind: Literal["min_rows", "freshness", "null_rate", "duplicates", "sample_size",
                  "dropped_share"]
    source: str
    column: str | None = Field(None, description="Column checked (null_rate, duplicates).")
    metric: str | None = Field(None, description="Metric whose n is checked (sample_size), or whose values left out as invalid (off-scale ratings, negative durations) are weighed against its n (dropped_share).")
    min: float | None = Field(None, description="min_rows / sample_size: the least acceptable count.")
    max: float | None = Field(None, description="null_rate / duplicates / dropped_share: the largest acceptable share (0-1); dropped_share counts what the data-quality note counts: rows dropped, values read as blank, identical rows (with 'metric': the metric's values it says were left out).")
    max_age_hours: float | None = Field(None, description="freshness: the newest row must reach within this many hours of the period end.")
    action: Literal["hold", "warn"] = Field("hold", description="hold: no report is sent; warn: the report says so.")

    @model_validator(mode="after")
    def _threshold(self) -> GateSpec:
        needed = {"min_rows": "min", "sample_size": "min", "null_rate": "max",
                  "duplicates": "max", "freshness": "max_age_hours",
                  "dropped_share": "max"}[self.kind]
        if getattr(self, needed) is None:
            raise ValueError(f"a {self.kind} gate needs '{needed}'")
        if self.kind in ("null_rate", "duplicates") and self.column is None:
            raise ValueError(f"a {self.kind} gate needs 'column'")
        if self.kind == "sample_size" and self.metric is None:
            raise ValueError("a sample_size gate needs 'metric'")
        return self
