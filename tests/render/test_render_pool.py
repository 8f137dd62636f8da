"""RenderPool: reports render on their own processes while the caller builds the next ones;
a caller whose build fails leaves the pool, and reports not started by then are never
rendered."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reportgen.render.pool import RenderPool


def _render_slowly(name: str, seconds: float, out_dir: Path) -> list:
    """A stand-in render: marks that it started, then takes ``seconds``."""
    (out_dir / f"{name}.started").write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(seconds)
    (out_dir / f"{name}.done").write_text("", encoding="utf-8")
    return []


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_build_failure_cancels_the_renders_not_yet_started(tmp_path):
    handed, jobs = 12, 2
    with (pytest.raises(RuntimeError, match="the build failed"),
          RenderPool(_render_slowly, tmp_path, jobs) as pool):
        for i in range(handed):
            pool.submit(f"report-{i:02d}", 0.4)
        _wait_for(lambda: any(tmp_path.glob("*.started")))  # rendering is under way
        raise RuntimeError("the build failed")
    started = sorted(p.stem for p in tmp_path.glob("*.started"))
    done = sorted(p.stem for p in tmp_path.glob("*.done"))
    # the pool's processes may already hold `jobs` running and `jobs + 1` queued reports;
    # the rest were cancelled, and what started was let finish (no half-written files)
    assert 1 <= len(started) <= 2 * jobs + 1 < handed, started
    assert done == started
    renderers = {(tmp_path / f"{name}.started").read_text() for name in started}
    assert str(os.getpid()) not in renderers  # on the pool's processes, not the caller's
    assert len(pool.handed) == handed

