"""A small generic registry: built-ins and plugins register the same way.

Built-ins register with the ``@registry.register("name")`` decorator when their module is
imported; third-party packages declare an entry point in the registry's group
(``reportgen.metrics``, ``reportgen.charts``, ...) and are loaded lazily on first lookup.
That first lookup may come from several threads at once (a daemon's jobs firing together,
web requests): loading happens once, under a lock, and no lookup answers before it is done.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Iterator
from importlib import import_module
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from reportgen.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind, looked up by the name used in YAML.

    ``T`` is what an entry does; an entry is registered as a class with a no-argument
    constructor (``instance`` makes the one object) or as a ready object.
    """

    def __init__(self, kind: str, group: str, builtins: tuple[str, ...] = ()):
        self.kind = kind
        self.group = group
        self._builtins = builtins
        self._entries: dict[str, type[T] | T] = {}
        self._instances: dict[str, T] = {}
        self._loaded = False
        # Re-entrant: a built-in module may look a name up while it is being imported.
        self._lock = threading.RLock()
        self._loading_thread: int | None = None

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        def decorator(obj: type[T]) -> type[T]:
            self.add(name, obj)
            return obj

        return decorator

    def add(self, name: str, obj: type[T] | T) -> None:
        if name in self._entries and self._entries[name] is not obj:
            raise ValueError(f"{self.kind} '{name}' is registered twice")
        self._entries[name] = obj

    def _load(self) -> None:
        if self._loaded:  # the common case, without taking the lock
            return
        with self._lock:
            if self._loaded or self._loading_thread == threading.get_ident():
                # loaded meanwhile by another thread, or a lookup from inside our own
                # imports (which sees what is registered so far)
                return
            self._loading_thread = threading.get_ident()
            try:
                for module in self._builtins:
                    import_module(module)
                for ep in entry_points(group=self.group):
                    if ep.name not in self._entries:
                        self.add(ep.name, ep.load())
                # A failed import leaves this False: it surfaces again on the next lookup
                # rather than reading as "unknown name".
                self._loaded = True
            finally:
                self._loading_thread = None

    def get(self, name: str) -> type[T] | T:
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._entries, self.suggest(name)) from None

    def instance(self, name: str) -> T:
        """The entry ``name`` ready to use: a registered class is instantiated once (no arguments)."""
        if name not in self._instances:
            entry = self.get(name)
            self._instances[name] = entry() if isinstance(entry, type) else entry
        return self._instances[name]

    def suggest(self, name: str) -> str | None:
        self._load()
        matches = difflib.get_close_matches(name, list(self._entries), n=1, cutoff=0.6)
        if not matches:
            lowered = {k.lower(): k for k in self._entries}
            prefix = [v for k, v in lowered.items() if k.startswith(name.lower()[:3])]
            return prefix[0] if len(prefix) == 1 else None
        return matches[0]

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, type[T] | T]]:
        self._load()
        return iter(sorted(self._entries.items()))
