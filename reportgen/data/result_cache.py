"""The process-wide cache of statement results, keyed on (source fingerprint, window,
statement), so several reports built in one process (a fan-out, a scheduler) share them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

_CACHE_SIZE = 256
_cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_cache_lock = threading.Lock()


def cached_result(key: tuple[Any, ...], compute: Any) -> Any:
    """The cached value under ``key``, computed (outside the lock) and kept when missing."""
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = compute()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def clear_cache() -> None:
    """Forget every cached result."""
    with _cache_lock:
        _cache.clear()
