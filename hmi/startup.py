"""What the commands that open the station's window do before they import it (``hmi.app``):
``prepare_station_imports``.

**PySide6's import hook, without the copy of every module's source it keeps.** Once
``PySide6.QtCore`` is imported, PySide6 replaces ``builtins.__import__`` and, after each new
module, asks whether its source says ``PySide6`` (``shibokensupport.feature``, for its opt-in
``from __feature__ import snake_case``). It asks through ``inspect.getsource``, which leaves the
module's source, split into lines, in ``linecache`` for the life of the process: for the ~650
modules a station imports after Qt, 11.5 MB of text and ~30 MB of resident memory (issue 18
item 4), and a tenth of a second of splitting. ``light_import_hook`` gives the hook the same
question answered from the file's bytes, kept nowhere. The answers (and so the features, which
this project never selects) are unchanged; a PySide6 without that hook is left alone.

**No cyclic garbage collection during the imports.** The station collects on its GUI thread,
from a timer (``hmi.app.GuiThreadCollector``, which keeps the thresholds); importing ~900
modules makes few cycles, and the collector's passes over the growing heap cost 8 % of the
imports' time.
"""

from __future__ import annotations

import gc
import sys
from types import ModuleType

__all__ = ["light_import_hook", "mentions_pyside", "prepare_station_imports"]

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


def prepare_station_imports() -> None:
    """Before ``import hmi.app``: PySide6's light import hook, the cyclic collector off (the
    station's ``GuiThreadCollector`` runs it from then on; ``hmi.app.run`` enables it again
    on the way out)."""
    gc.disable()
    light_import_hook()
