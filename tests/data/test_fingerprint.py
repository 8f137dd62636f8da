"""A file's content hash: computed once per (path, size, time), by one thread at a time."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from reportgen.data import fingerprint


def test_threads_asking_for_one_file_read_it_once(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data.sqlite"
    data = os.urandom(1 << 20)
    path.write_bytes(data)
    opened: list[Path] = []
    start = threading.Barrier(4)
    real_open = Path.open

    def slow_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self)
        time.sleep(0.2)  # the others ask while this one reads
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", slow_open)

    def ask(_: int) -> str:
        start.wait()
        return fingerprint.content_hash(path)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, range(4)))
    assert answers == [hashlib.sha256(data).hexdigest()] * 4
    assert opened == [path]
    assert not fingerprint._hashing  # nothing left waiting


def test_a_changed_file_is_hashed_again(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text("a,b\n1,2\n")
    before = fingerprint.content_hash(path)
    path.write_text("a,b\n1,3\n")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    after = fingerprint.content_hash(path)
    assert after == hashlib.sha256(b"a,b\n1,3\n").hexdigest() != before
