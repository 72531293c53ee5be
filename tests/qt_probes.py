"""Counting what Qt is asked to do, for tests that prove work is done once or not at all:
paint events a widget receives (``PaintCounter``, an event filter), the Qt (C++) methods
Python calls on this thread (``qt_calls``, a ``sys.setprofile`` hook) and the runs of one
Python function (``python_calls``); and a mouse resting on a widget (``hover_tooltip``)."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from PySide6.QtCore import QEvent, QObject

__all__ = ["PaintCounter", "hover_tooltip", "python_calls", "qt_calls"]


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


@contextmanager
def python_calls(function: Any) -> Iterator[list[str]]:
    """Each time Python runs ``function`` on this thread inside the block (Qt calling it as
    an override included), the name of its first argument's type. Nothing is patched: a
    class's override replaced at run time leaves a stale entry in Shiboken's cache."""
    code = function.__code__
    runs: list[str] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is code:
            runs.append(type(frame.f_locals.get("watched")).__name__)

    sys.setprofile(profile)
    try:
        yield runs
    finally:
        sys.setprofile(None)


def hover_tooltip(widget: Any) -> str:
    """What a mouse resting on ``widget`` does: it enters, then Qt asks for the tooltip; the
    text the widget gives (``widget.toolTip()`` once asked)."""
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QEnterEvent, QHelpEvent
    from PySide6.QtWidgets import QApplication

    inside = QPointF(5, 5)
    QApplication.sendEvent(widget, QEnterEvent(inside, inside, widget.mapToGlobal(inside)))
    at = QPoint(5, 5)
    QApplication.sendEvent(widget, QHelpEvent(QEvent.Type.ToolTip, at, widget.mapToGlobal(at)))
    return str(widget.toolTip())
