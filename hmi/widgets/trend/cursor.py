"""The trend cursor: a vertical line the operator drags; the legend reads every pen there."""

from __future__ import annotations

import math
from datetime import datetime

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal

from hmi.widgets.trend.style import CURSOR


def local_time(seconds: float) -> datetime:
    """``seconds`` as an aware local time (the offset in force then, so the hour repeated
    at the end of daylight saving reads differently the second time)."""
    return datetime.fromtimestamp(seconds).astimezone()


def offset_text(moment: datetime) -> str:
    """``+01:00``, ``-03:30``, ``+00:00``."""
    offset = moment.strftime("%z")
    return f"{offset[:3]}:{offset[3:]}" if offset else ""


def cursor_time_text(seconds: float) -> str:
    """Local date and time to the millisecond with its UTC offset, as the legend heads the
    cursor's readings: ``2026-10-25 02:30:00.000 +01:00``."""
    if not math.isfinite(seconds):
        return ""
    moment = local_time(seconds)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} {offset_text(moment)}"


class TrendCursor(QObject):
    moved = Signal(float)  # POSIX seconds

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__()
        pen = pg.mkPen(CURSOR, width=1, style=Qt.PenStyle.DashLine)
        self.line = pg.InfiniteLine(
            angle=90, movable=True, pen=pen, hoverPen=pg.mkPen(CURSOR, width=2)
        )
        self.line.setZValue(50)
        self.label = pg.InfLineLabel(
            self.line, text="", position=0.96, anchors=[(0, 1), (0, 1)], color=CURSOR
        )
        self.line.sigPositionChanged.connect(self._moved)
        self.line.hide()
        plot.addItem(self.line, ignoreBounds=True)

    @property
    def active(self) -> bool:
        return self.line.isVisible()

    @property
    def time(self) -> float:
        return float(self.line.value())

    def show_at(self, seconds: float) -> None:
        self.line.show()
        self.place(seconds)

    def place(self, seconds: float) -> None:
        self.line.setValue(seconds)
        self._moved()

    def hide(self) -> None:
        self.line.hide()

    def _moved(self, *_: object) -> None:
        seconds = self.time
        self.label.setText(" " + cursor_time_text(seconds))
        self.moved.emit(seconds)
