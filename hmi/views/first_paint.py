"""Waiting for the first painted screen: what ``hmi run --smoke`` reports before it exits."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class FirstPaint(QObject):
    """Resolves ``painted`` once ``widget`` has handled its first paint event (the event
    filter sees the event before the widget paints; the future is set on the next turn of the
    loop, after the paint). Qt paints nothing that is not shown, so this is the screen seen."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.widget = widget
        self.painted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget and event.type() == QEvent.Type.Paint:
            self.widget.removeEventFilter(self)
            QTimer.singleShot(0, self._done)
        return False

    def _done(self) -> None:
        if not self.painted.done():
            self.painted.set_result(None)
