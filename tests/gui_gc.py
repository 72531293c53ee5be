"""Python's cyclic collector in tests that run a station, as ``hmi.app.run`` has it: only on the
GUI thread (run from a worker thread, the audit trail's, it would delete Qt objects there and
crash Qt), and what is alive when a test starts frozen (``gc.freeze``, as the station freezes
what it made at start-up), so that the collections during and after the test scan only what
the test made. A full collection of the ~200,000 objects a station test holds took 0.2-0.3 s,
and there were two a test."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from hmi.app import GuiThreadCollector


@contextlib.contextmanager
def gc_on_gui_thread(interval_ms: int = 500) -> Iterator[None]:
    gc.collect()  # the earlier tests' garbage, here on the GUI thread
    gc.freeze()
    collector = GuiThreadCollector(interval_ms=interval_ms)
    try:
        yield
    finally:
        collector.timer.stop()
        gc.collect()
        gc.enable()
