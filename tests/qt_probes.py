"""Counting what Qt is asked to do, for tests that prove work is done once or not at all:
paint events a widget receives (``PaintCounter``, an event filter) and the Qt (C++) methods
Python calls on this thread (``qt_calls``, a ``sys.setprofile`` hook)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from PySide6.QtCore import QEvent, QObject

__all__ = ["PaintCounter", "qt_calls"]


class PaintCounter(QObject):
    """Installed as an event filter: ``count`` of the Paint events the watched object got."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


@contextmanager
def qt_calls() -> Iterator[Counter[str]]:
    """The C methods (Qt's among them) Python calls on this thread inside the block, by name."""
    calls: Counter[str] = Counter()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "c_call":
            calls[getattr(arg, "__name__", "?")] += 1

    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(None)
