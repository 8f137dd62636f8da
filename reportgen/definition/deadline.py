"""``schedule.deliver_by``: a duration after the scheduled time, or a local time of day.

Parsed when the definition is loaded (so a bad value is a located error) and used by the
schedule daemon to tell when a report is late.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"^(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>h|m)$")
_LOCAL_TIME = re.compile(r"^(?P<hour>[01]\d|2[0-3]):(?P<minute>[0-5]\d)$")


@dataclass(frozen=True)
class DeliverBy:
    """A parsed ``deliver_by``: exactly one of ``after`` and ``local_time`` is set."""

    after: timedelta | None = None
    local_time: time | None = None

    def deadline(self, scheduled: datetime, timezone: str) -> datetime:
        """The deadline for a run scheduled at ``scheduled`` (aware), in UTC terms."""
        if self.after is not None:
            return scheduled + self.after
        assert self.local_time is not None
        zone = ZoneInfo(timezone)
        local = scheduled.astimezone(zone)
        candidate = datetime.combine(local.date(), self.local_time, tzinfo=zone)
        if candidate < local:
            candidate = datetime.combine(local.date() + timedelta(days=1), self.local_time,
                                         tzinfo=zone)
        return candidate


def parse_deliver_by(text: str) -> DeliverBy:
    """``"6h"``, ``"90m"`` or ``"09:30"``; ValueError naming what was expected otherwise."""
    value = text.strip()
    duration = _DURATION.match(value)
    if duration:
        amount = float(duration["number"])
        after = timedelta(hours=amount) if duration["unit"] == "h" else timedelta(minutes=amount)
        if after <= timedelta(0):
            raise ValueError(f"expected a deadline after the scheduled time, found {text!r}")
        return DeliverBy(after=after)
    clock = _LOCAL_TIME.match(value)
    if clock:
        return DeliverBy(local_time=time(int(clock["hour"]), int(clock["minute"])))
    raise ValueError(f"expected a duration after the scheduled time ('6h', '90m') or a local "
                     f"time of day ('09:30'), found {text!r}")
