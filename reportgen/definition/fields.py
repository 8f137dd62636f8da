"""Field types and validators the definition's models share: identifiers, plain paths, time
zones, one-line text, file-name templates and the base model that forbids unknown keys.
"""

from __future__ import annotations

import functools
import re
import string
import zoneinfo
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Identifier = Annotated[
    str,
    Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", min_length=1, max_length=64,
          description="A name made of letters, digits, '_' and '-', starting with a letter."),
]


ColumnType = Literal["str", "int", "float", "bool", "datetime", "category"]


EMAIL_PATTERN = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+$")


class Strict(BaseModel):
    # nan and inf are never a target, a threshold or a wait; refusing them here keeps
    # every float field finite without a validator each.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


#: Longest wait the scheduler accepts anywhere (a year, in minutes).
YEAR_MINUTES = 366 * 24 * 60


#: A cron expression that does not fire within this many years is a mistake.
CRON_HORIZON_YEARS = 8


#: Largest magnitude of a target: anything beyond is a typo, and would print as nonsense.
MAX_MAGNITUDE = 1e15


#: Placeholders an output file name may use.
FILENAME_FIELDS = ("report", "period", "ext")


#: Every character ``str.splitlines`` breaks at; an e-mail header may hold none of them.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def has_line_break(value: str) -> bool:
    return not _BREAKS.isdisjoint(value)


_BREAKS = frozenset(LINE_BREAKS)


def no_newlines(value: str) -> str:
    if has_line_break(value):
        raise ValueError("must be a single line (line breaks could inject mail headers)")
    return value


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones() | {"UTC"})


def known_zone(value: str) -> str:
    """An IANA zone name that the zone database has (checked by name, so a path such as
    'America' or '../x' never reaches the file system)."""
    if value not in _zone_names():
        raise ValueError(f"unknown timezone {value[:80]!r}; expected an IANA name such as "
                         f"'Europe/Berlin'")
    return value


def _plain_path(value: str) -> str:
    """A path relative to the definition's folder that cannot climb out of it."""
    if not value or "\x00" in value or any(ord(c) < 32 for c in value):
        raise ValueError("must be a non-empty path without control characters")
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute() or value.startswith("~") or ".." in path.parts:
        raise ValueError(f"must be a path inside the definition's folder, found {value!r}")
    return value


def unknown_placeholder(template: str, allowed: tuple[str, ...]) -> str | None:
    """The first placeholder of a ``str.format`` template outside ``allowed`` (or with a
    format spec or conversion), or None; raises ValueError for a malformed template."""
    parts = list(string.Formatter().parse(template))  # a malformed template is reported first
    for _, name, spec, conversion in parts:
        if name is not None and (name not in allowed or spec or conversion):
            return name
    return None


def check_filename(value: str) -> str:
    """An output file name: a plain name (no folders), using only the known placeholders."""
    if not value.strip():
        raise ValueError("must not be empty")
    if any(ord(c) < 32 or c in "/\\" for c in value) or has_line_break(value):
        raise ValueError(f"must be a plain file name without folders or control characters, "
                         f"found {value!r}")
    try:
        unknown = unknown_placeholder(value, FILENAME_FIELDS)
    except ValueError as exc:
        raise ValueError(f"is not a valid name template ({exc}); write braces as '{{{{' and "
                         f"'}}}}'") from None
    if unknown is not None:
        raise ValueError(f"unknown placeholder {{{unknown}}}; available: "
                         f"{', '.join('{' + f + '}' for f in FILENAME_FIELDS)}")
    if value.strip() in (".", ".."):
        raise ValueError(f"must be a file name, found {value!r}")
    return value


def breakdown_columns(entry: str | list[str]) -> str | list[str]:
    """A breakdown: a column name, or a non-empty list of column names."""
    columns = [entry] if isinstance(entry, str) else entry
    if not columns or any(not column.strip() for column in columns):
        raise ValueError(f"a breakdown is a column name or a list of column names, found "
                         f"{entry!r}")
    return entry


PlainPath = Annotated[str, AfterValidator(_plain_path)]
