"""The reportgen error tree.

Every error builds its own message from structured fields: where (file:line:col and the
YAML path), what was expected, what was found, and, where it helps, what to do.  Only
the ``cli`` package turns them into exit codes: ``InputError`` subclasses mean "your input is
wrong" (exit 2); ``ResourceError`` means the machine ran short (exit 3); anything else
escaping the pipeline is an internal error (exit 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class ReportgenError(Exception):
    """Base of every error reportgen raises on purpose."""

    exit_code = 1


class InputError(ReportgenError):
    """The user's input (definition, data, arguments) is wrong; exit code 2."""

    exit_code = 2


@dataclass(frozen=True)
class Location:
    """Where in a YAML file a value sits."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is, the YAML path, and what is wrong."""

    path: str
    message: str
    location: Location | None = None

    def __str__(self) -> str:
        where = f"{self.location} " if self.location else ""
        path = f"{self.path}: " if self.path else ""
        return f"{where}{path}{self.message}"


class DefinitionError(InputError):
    """One or more problems in a report definition, all reported together."""

    def __init__(self, file: str, problems: Sequence[Problem]):
        self.file = file
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{file}: {count} problem{'s' if count != 1 else ''} in the report definition"
        super().__init__(head + "\n" + "\n".join(f"  {p}" for p in self.problems))

    def one_line(self) -> str:
        return "; ".join(str(p) for p in self.problems)


class MissingEnvironmentVariable(InputError, LookupError):
    """A ``${VAR}`` in a definition names a variable that is not set."""

    def __init__(self, name: str, location: Location | None = None, path: str = ""):
        self.name = name
        where = f"{location} " if location else ""
        at = f"{path}: " if path else ""
        super().__init__(
            f"{where}{at}environment variable ${{{name}}} is not set; "
            f"set it or remove the reference"
        )


class UnknownNameError(InputError, LookupError):
    """A registry lookup failed; the message offers the closest names."""

    def __init__(self, kind: str, name: str, available: Iterable[str], suggestion: str | None):
        self.kind = kind
        self.name = name
        self.available = tuple(sorted(available))
        self.suggestion = suggestion
        hint = f"; did you mean '{suggestion}'?" if suggestion else ""
        super().__init__(
            f"unknown {kind} '{name}'{hint} (available: {', '.join(self.available) or 'none'})"
        )


class SourceError(InputError):
    """A data source could not be read or does not match its column contract."""

    def __init__(self, source: str, problem: str, file: str | None = None,
                 key: tuple[str, ...] = ()):
        self.source = source
        self.file = file
        self.problem = problem
        #: where under the source's entry the fault is written (``("derive", "x")``); empty:
        #: the entry's data location
        self.key = key
        where = f" ({file})" if file else ""
        super().__init__(f"source '{source}'{where}: {problem}")

    def located(self, where: str) -> SourceError:
        """This error with ``where`` (the definition's file:line:col and YAML path of the
        source) in front of its message."""
        self.args = (f"{where}: {self.args[0]}", *self.args[1:])
        return self


class MissingColumnsError(SourceError, KeyError):
    """Columns a definition needs are not in the data."""

    def __init__(
        self, source: str, missing: Sequence[str], available: Sequence[str], file: str | None = None
    ):
        self.missing = tuple(missing)
        self.available = tuple(available)
        plural = "s" if len(self.missing) > 1 else ""
        super().__init__(
            source,
            f"missing column{plural} {', '.join(repr(c) for c in self.missing)}; "
            f"available columns: {', '.join(repr(c) for c in self.available)}",
            file,
        )

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return Exception.__str__(self)


class PeriodError(InputError, ValueError):
    """A period string or grain is malformed."""


class OptionalDependencyError(ReportgenError, ImportError):
    """An optional backend is used but not installed."""

    def __init__(self, feature: str, extra: str, module: str):
        super().__init__(
            f"{feature} needs the '{module}' package; install it with "
            f"pip install 'reportgen[{extra}]'"
        )


class GateFailure(ReportgenError):
    """A data-quality gate holds the run: the data is not complete enough to report on."""

    exit_code = 3

    def __init__(self, reasons: Sequence[str]):
        self.reasons = tuple(reasons)
        super().__init__("run held by data-quality gates: " + "; ".join(self.reasons))


class OutputPathError(InputError, ValueError):
    """An output file name would leave the output folder or is not a plain file name."""

    def __init__(self, name: str, problem: str):
        self.name = name
        super().__init__(f"output file name {name!r}: {problem}; expected a plain file name "
                         f"such as '{{report}}-{{period}}.{{ext}}'")


class ResourceError(ReportgenError):
    """The run needed more memory (or scratch disk) than it may use: not bad input, and not
    a defect; the message says which setting to change.  Exit code 3."""

    exit_code = 3

    def __init__(self, problem: str, advice: str):
        self.problem = problem
        self.advice = advice
        super().__init__(f"{problem}; {advice}")


class RenderError(ReportgenError):
    """A renderer failed to produce its artifact."""


class TemplateError(RenderError, InputError):
    """A definition's template, stylesheet, slide master or theme is refused or broken:
    input to fix, so exit code 2."""


class DeliveryError(ReportgenError):
    """A delivery channel failed."""
