"""What the commands that open the station's window do around importing it (``hmi.app``):
``with station_imports(): from hmi.app import run``.

**PySide6's import hook, without the copy of every module's source it keeps.** Once
``PySide6.QtCore`` is imported, PySide6 replaces ``builtins.__import__`` and, after each new
module, asks whether its source says ``PySide6`` (``shibokensupport.feature``, for its opt-in
``from __feature__ import snake_case``). It asks through ``inspect.getsource``, which leaves the
module's source, split into lines, in ``linecache`` for the life of the process: for the ~650
modules a station imports after Qt, 11.5 MB of text and ~30 MB of resident memory (issue 18
item 4), and a tenth of a second of splitting. ``light_import_hook`` gives the hook the same
question answered from the file's bytes, kept nowhere. The answers (and so the features, which
this project never selects) are unchanged; a PySide6 without that hook is left alone.

**No cyclic garbage collection over the imports.** Importing ~900 modules leaves ~83,000
objects that live as long as the process (modules, classes, functions) and under a thousand
cyclic garbage; the collector's passes over that growing heap cost 8 % of the imports' time,
and every full collection after them (the GUI-thread collector's, the station's
collect-and-freeze) walks it again. So the collector is off while the station is imported
and what was imported is frozen (``gc.freeze``: kept out of every later collection) before
it is switched back on.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

__all__ = ["light_import_hook", "mentions_pyside", "station_imports"]

FEATURE_MODULE = "shibokensupport.feature"


def mentions_pyside(module: ModuleType) -> bool:
    """Whether ``module``'s source file says ``PySide6`` (False for a module without one: a
    built-in, an extension, one frozen into a bundle), as PySide6's own check answers it."""
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return False
    try:
        with open(path, "rb") as source:
            return b"PySide6" in source.read()
    except OSError:
        return False


def light_import_hook() -> bool:
    """Import ``PySide6.QtCore`` and give its import hook ``mentions_pyside``; True if the hook
    was there to change (repeat calls are harmless)."""
    import PySide6.QtCore  # noqa: F401  (installs the hook)

    feature = sys.modules.get(FEATURE_MODULE)
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = mentions_pyside
    return True


@contextmanager
def station_imports() -> Iterator[None]:
    """Around ``from hmi.app import run``: PySide6's light import hook; the cyclic collector
    off, then what was imported frozen and the collector as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        light_import_hook()
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
