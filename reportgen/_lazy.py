"""Modules imported on first use, so ``reportgen validate`` and ``--help`` stay fast.

The heavy libraries (pandas, NumPy, SciPy, SQLAlchemy, matplotlib) cost ~1.5 s to import;
commands that only read a definition never touch them.  ``lazy("pandas")`` returns the
module object at once and loads it on the first attribute access (the standard library's
``importlib.util.LazyLoader``).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy(name: str) -> ModuleType:
    """The module ``name``, loaded when first used (at once if it is already loaded)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
