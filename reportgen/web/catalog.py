"""The reports the page knows: every definition in one folder, valid or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reportgen import secrets
from reportgen.definition import LoadedDefinition
from reportgen.definition.folder import definition_files
from reportgen.executors.schedule_sync import ScheduleRow, describe_schedule
from reportgen.period import Period


@dataclass(frozen=True)
class Entry:
    """One definition file: loaded, or the located error that stopped it."""

    path: Path
    report_id: str
    loaded: LoadedDefinition | None
    error: str | None
    schedule: ScheduleRow | None

    @property
    def title(self) -> str:
        return self.loaded.definition.title if self.loaded else self.path.name

    @property
    def owner(self) -> str | None:
        return self.loaded.definition.owner if self.loaded else None

    def periods(self, now: datetime, count: int = 12) -> list[Period]:
        """The last ``count`` complete periods at ``now``, newest first."""
        if self.loaded is None:
            return []
        spec = self.loaded.definition.period
        return list(reversed(Period.last_complete(now, spec.grain, spec.timezone).trailing(count)))

    def period(self, key: str) -> Period:
        assert self.loaded is not None
        spec = self.loaded.definition.period
        return Period.parse(key, spec.grain, spec.timezone)


def load_catalog(directory: Path, now: datetime, *, settings_path: Path | None = None
                 ) -> dict[str, Entry]:
    """Every definition in ``directory`` by report id (an invalid file by its file name)."""
    from reportgen.plan import load_definition

    schedules = {Path(r.path).resolve(): r
                 for r in describe_schedule(directory, now, settings_path=settings_path)}
    entries: dict[str, Entry] = {}
    for path in definition_files(directory, settings_path):
        try:
            loaded = load_definition(path)
        except Exception as exc:  # shown on the page with its location; others still listed
            entries[path.stem] = Entry(path, path.stem, None, secrets.redact(str(exc)),
                                       schedules.get(path.resolve()))
            continue
        entries[loaded.definition.id] = Entry(path, loaded.definition.id, loaded, None,
                                              schedules.get(path.resolve()))
    return entries
