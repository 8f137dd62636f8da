"""Run a command several times and report wall time, CPU time and peak memory per run.

    python benchmarks/measure.py [--runs 5] [--cwd DIR] -- COMMAND [ARG ...]
    python benchmarks/measure.py --pair [--runs 5] 'COMMAND A' 'COMMAND B'

CPU time (user + system) is the command's and every descendant's: on Linux the launcher is
a child subreaper, so a process whose parent never waited for it (a browser's renderers)
is reaped by the launcher and counted too.  Peak RSS is the command's own, from the
``rusage`` that ``os.wait4`` returns when it exits; wall time runs from its spawn to its
exit.  Descendants still running 5 s after the command exits are counted as left running.  Linux counts in a process's peak RSS the memory of the
process it was forked from, up to the exec, so the command is started by a bare
``python -I -S`` launcher (~10 MiB) rather than from this process, whose size (a test
runner, a notebook) would otherwise set the floor.

``--pair`` runs A then B alternately, so both meet the same machine load and caches, and
prints the ratio A/B of the medians and of each pair.  Standard library only; Linux or
macOS.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class CommandFailed(RuntimeError):
    """A measured command exited with a non-zero status."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr_tail: str) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        super().__init__(f"{shlex.join(argv)} exited with status {returncode}"
                         + (f":\n{stderr_tail}" if stderr_tail else ""))


@dataclass(frozen=True)
class Run:
    """What one run of a command cost."""

    wall_seconds: float
    user_seconds: float
    system_seconds: float
    peak_rss_bytes: int
    returncode: int
    #: descendants still running 5 s after the command exited (processes it leaked)
    left_running: int = 0

    @property
    def cpu_seconds(self) -> float:
        return self.user_seconds + self.system_seconds


@dataclass(frozen=True)
class Spread:
    """Minimum, median and maximum of one figure over the runs."""

    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            raise ValueError("no values to summarise")
        return cls(min(values), statistics.median(values), max(values))


FIGURES: Mapping[str, Callable[[Run], float]] = {
    "wall_s": lambda run: run.wall_seconds,
    "cpu_s": lambda run: run.cpu_seconds,
    "peak_rss_mib": lambda run: run.peak_rss_bytes / 2**20,
}


def summarise(runs: Sequence[Run]) -> dict[str, Spread]:
    """Min / median / max of wall time, CPU time and peak RSS (MiB) over ``runs``."""
    return {name: Spread.of([figure(run) for run in runs]) for name, figure in FIGURES.items()}


# Runs in a fresh interpreter: spawns the command, waits for it, writes its costs as JSON.
_LAUNCHER = """
import json, os, resource, sys, time
report, argv = sys.argv[1], sys.argv[2:]
try:  # Linux: orphaned descendants are re-parented to us, not to init, and reaped here
    import ctypes
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
except (OSError, AttributeError):
    pass
start = time.perf_counter()
try:
    pid = os.posix_spawnp(argv[0], argv, os.environ)
except OSError as exc:
    result = {"error": f"{type(exc).__name__}: {exc}"}
else:
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    # Descendants whose parent never waited for them (a browser's renderers) count only
    # once reaped; those still running a few seconds on were left behind by the command.
    deadline, left = time.monotonic() + 5, 0
    while True:
        try:
            reaped, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if reaped == 0 and time.monotonic() > deadline:
            left = sum(1 for d in os.listdir("/proc") if d.isdigit() and
                       open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1] == str(os.getpid()))
            break
        if reaped == 0:
            time.sleep(0.02)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {"wall": wall, "status": status, "user": children.ru_utime,
              "system": children.ru_stime, "maxrss": usage.ru_maxrss, "left": left}
with open(report, "w", encoding="utf-8") as out:
    json.dump(result, out)
"""


def _max_rss_bytes(ru_maxrss: int) -> int:
    # Linux reports kibibytes, macOS bytes.
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


def run_once(argv: Sequence[str], *, cwd: Path | None = None,
             env: Mapping[str, str] | None = None, show_output: bool = False,
             check: bool = True) -> Run:
    """Run ``argv`` (no shell) to completion and measure it.

    Its output is discarded unless ``show_output``; with ``check`` a non-zero exit raises
    ``CommandFailed`` carrying the end of its standard error; a program that cannot be
    started raises ``OSError``.
    """
    with tempfile.TemporaryFile() as stderr, tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "run.json"
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(report), *argv]
        subprocess.run(launcher, cwd=cwd, env=None if env is None else dict(env),
                       stdin=subprocess.DEVNULL,
                       stdout=None if show_output else subprocess.DEVNULL,
                       stderr=None if show_output else stderr, check=True)
        result = json.loads(report.read_text(encoding="utf-8"))
        if "error" in result:
            raise OSError(f"cannot run {shlex.join(argv)}: {result['error']}")
        returncode = os.waitstatus_to_exitcode(result["status"])
        if check and returncode != 0:
            stderr.seek(0)
            tail = stderr.read()[-2000:].decode("utf-8", "replace").strip()
            raise CommandFailed(argv, returncode, tail)
    return Run(result["wall"], result["user"], result["system"],
               _max_rss_bytes(result["maxrss"]), returncode, result.get("left", 0))


def run_many(argv: Sequence[str], runs: int, *, cwd: Path | None = None,
             env: Mapping[str, str] | None = None, show_output: bool = False) -> list[Run]:
    """``runs`` measured runs of ``argv``, one after another."""
    return [run_once(argv, cwd=cwd, env=env, show_output=show_output) for _ in range(runs)]


def run_pair(first: Sequence[str], second: Sequence[str], runs: int, *,
             cwd: Path | None = None, env: Mapping[str, str] | None = None,
             show_output: bool = False) -> tuple[list[Run], list[Run]]:
    """``runs`` pairs, first then second each time, so both meet the same conditions."""
    firsts: list[Run] = []
    seconds: list[Run] = []
    for _ in range(runs):
        firsts.append(run_once(first, cwd=cwd, env=env, show_output=show_output))
        seconds.append(run_once(second, cwd=cwd, env=env, show_output=show_output))
    return firsts, seconds


def ratios(firsts: Sequence[Run], seconds: Sequence[Run]) -> dict[str, tuple[float, list[float]]]:
    """Per figure: A/B of the medians, and A/B of each pair in run order."""
    out = {}
    for name, figure in FIGURES.items():
        of_medians = _ratio(statistics.median(figure(run) for run in firsts),
                            statistics.median(figure(run) for run in seconds))
        pairs = [_ratio(figure(a), figure(b)) for a, b in zip(firsts, seconds, strict=True)]
        out[name] = (of_medians, pairs)
    return out


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def _run_line(label: str, run: Run) -> str:
    return (f"{label:<10} wall {run.wall_seconds:9.3f} s   cpu {run.cpu_seconds:9.3f} s "
            f"(user {run.user_seconds:.3f}, sys {run.system_seconds:.3f})   "
            f"peak RSS {run.peak_rss_bytes / 2**20:9.1f} MiB"
            + (f"   LEFT {run.left_running} PROCESSES RUNNING" if run.left_running else ""))


def _summary_lines(label: str, runs: Sequence[Run]) -> list[str]:
    lines = [f"{label}: {len(runs)} runs          min      median         max"]
    units = {"wall_s": "wall (s)", "cpu_s": "cpu (s)", "peak_rss_mib": "peak RSS (MiB)"}
    for name, spread in summarise(runs).items():
        lines.append(f"  {units[name]:<16} {spread.min:11.3f} {spread.median:11.3f} "
                     f"{spread.max:11.3f}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="measured runs (default: 5)")
    parser.add_argument("--warmup", type=int, default=0,
                        help="unmeasured runs first, to warm caches (default: 0)")
    parser.add_argument("--pair", action="store_true",
                        help="two commands, each one quoted string: run A, B alternately")
    parser.add_argument("--cwd", type=Path, default=None, help="run the commands in DIR")
    parser.add_argument("--show-output", action="store_true",
                        help="let the commands print (default: discarded)")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="the command and its arguments (after --), or with --pair two "
                             "quoted command lines")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.runs < 1:
        parser.error(f"--runs: expected at least 1, got {args.runs}")
    if args.pair:
        if len(command) != 2:
            parser.error(f"--pair: expected two quoted command lines, got {len(command)} "
                         f"argument(s): {shlex.join(command)}")
        commands = [shlex.split(line) for line in command]
        if not all(commands):
            parser.error("--pair: a command line is empty")
    else:
        if not command:
            parser.error("expected a command to measure, e.g. -- python -c 'pass'")
        commands = [command]

    try:
        for _ in range(args.warmup):
            for each in commands:
                run_once(each, cwd=args.cwd, show_output=args.show_output)
        if not args.pair:
            runs = []
            for number in range(1, args.runs + 1):
                runs.append(run_once(commands[0], cwd=args.cwd, show_output=args.show_output))
                print(_run_line(f"run {number}", runs[-1]), flush=True)
            print("\n".join(_summary_lines(shlex.join(commands[0]), runs)))
            return 0
        firsts: list[Run] = []
        seconds: list[Run] = []
        for number in range(1, args.runs + 1):
            a, b = run_pair(commands[0], commands[1], 1, cwd=args.cwd,
                            show_output=args.show_output)
            firsts += a
            seconds += b
            print(_run_line(f"A run {number}", a[0]), flush=True)
            print(_run_line(f"B run {number}", b[0]), flush=True)
    except CommandFailed as exc:
        print(f"measure: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. the program does not exist
        print(f"measure: {exc}", file=sys.stderr)
        return 2
    print(f"A = {shlex.join(commands[0])}")
    print(f"B = {shlex.join(commands[1])}")
    print("\n".join(_summary_lines("A", firsts)))
    print("\n".join(_summary_lines("B", seconds)))
    names = {"wall_s": "wall", "cpu_s": "cpu", "peak_rss_mib": "peak RSS"}
    for name, (of_medians, per_pair) in ratios(firsts, seconds).items():
        pairs = ", ".join(f"{r:.3f}" for r in per_pair)
        print(f"A/B {names[name]:<9} medians {of_medians:.3f}   pairs {pairs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
