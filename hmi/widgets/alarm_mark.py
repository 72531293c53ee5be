"""Alarm priorities as the operator sees them everywhere (banner, summary, marks on screen
widgets): a shape AND a colour AND a number, never colour alone (ISA-101, IEC 62682):

    critical  red square "1"    high  orange diamond "2"
    medium    yellow triangle "3"    low  cyan circle "4"

``AlarmMarks`` is the registry a screen's widgets get through ``WidgetContext.alarms``: each
bound widget whose tag has an annunciated alarm shows a small mark of its most urgent alarm in
the top-left corner (the quality badge owns the top-right); unacknowledged marks blink, from
one timer for all of them. The colours are Qt properties the theme may set.

A mark shows a cached picture of its priority (``CornerMark``): a blink swaps the
two cached phases, and Qt paints the mark without Python (see ``hmi.widgets.picture``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Hashable, Iterable
from typing import Protocol

import shiboken6
from PySide6.QtCore import Property, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QWidget

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import (
    UNACKNOWLEDGED,
    AlarmCounts,
    AlarmEvent,
    AlarmState,
    AlarmStatus,
)
from hmi.widgets.base import color_property
from hmi.widgets.picture import CornerMark, PixmapCache

__all__ = [
    "PRIORITY_COLORS",
    "PRIORITY_NUMBER",
    "AlarmFigures",
    "AlarmMark",
    "AlarmMarks",
    "paint_priority",
    "priority_pixmap",
]

log = logging.getLogger(__name__)

PRIORITY_COLORS = {
    Priority.CRITICAL: "#e00000",
    Priority.HIGH: "#ff8c00",
    Priority.MEDIUM: "#ffe000",
    Priority.LOW: "#00b4d8",
}
PRIORITY_NUMBER = {
    Priority.CRITICAL: "1",
    Priority.HIGH: "2",
    Priority.MEDIUM: "3",
    Priority.LOW: "4",
}
PRIORITY_SHAPE = {
    Priority.CRITICAL: "square",
    Priority.HIGH: "diamond",
    Priority.MEDIUM: "triangle",
    Priority.LOW: "circle",
}
OUTLINE = QColor("#1e1e1e")
MARK_PX = 14.0  # design size of a mark on a screen widget
BLINK_MS = 500  # on 0.5 s, off 0.5 s: 1 Hz


class AlarmFigures(Protocol):
    """What the operator's alarm views read (``hmi.runtime.alarms.AlarmEngineService``)."""

    def add_listener(self, listener: Callable[[AlarmEvent], None]) -> None: ...

    def remove_listener(self, listener: Callable[[AlarmEvent], None]) -> None: ...

    def summary(self) -> list[AlarmStatus]: ...

    def status(self, alarm_id: str) -> AlarmStatus: ...

    def statuses(self, states: Iterable[AlarmState]) -> list[AlarmStatus]: ...

    def counts(self) -> AlarmCounts: ...


def _shape(priority: Priority, box: QRectF) -> QPolygonF | None:
    c, r = box.center(), box.width() / 2
    kind = PRIORITY_SHAPE[priority]
    if kind == "diamond":
        return QPolygonF([QPointF(c.x(), c.y() - r), QPointF(c.x() + r, c.y()),
                          QPointF(c.x(), c.y() + r), QPointF(c.x() - r, c.y())])  # fmt: skip
    if kind == "triangle":
        return QPolygonF([QPointF(c.x(), box.top()), box.bottomRight(), box.bottomLeft()])
    return None


def paint_priority(
    painter: QPainter,
    box: QRectF,
    priority: Priority,
    color: QColor | None = None,
    *,
    lit: bool = True,
    number: bool = True,
) -> None:
    """The priority's shape filled with its colour and its number; ``lit`` False draws the
    "off" phase of a blink: the same shape, hollow, so it never disappears."""
    color = QColor(color or PRIORITY_COLORS[priority])
    side = min(box.width(), box.height())
    box = QRectF(box.center().x() - side / 2, box.center().y() - side / 2, side, side)
    width = max(1.0, side / 12)
    inner = box.adjusted(width / 2, width / 2, -width / 2, -width / 2)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if lit:
        painter.setPen(QPen(OUTLINE, width))
        painter.setBrush(color)
    else:
        painter.setPen(QPen(color.darker(130), width * 1.6))
        painter.setBrush(QColor("#f0f0f0"))
    polygon = _shape(priority, inner)
    kind = PRIORITY_SHAPE[priority]
    if polygon is not None:
        painter.drawPolygon(polygon)
    elif kind == "circle":
        painter.drawEllipse(inner)
    else:
        inset = side * 0.06
        painter.drawRect(inner.adjusted(inset, inset, -inset, -inset))
    if number and side >= 11:
        font = QFont(painter.font())
        font.setPixelSize(max(6, round(side * (0.45 if kind == "triangle" else 0.58))))
        font.setBold(True)
        painter.setFont(font)
        white = priority is Priority.CRITICAL and lit
        painter.setPen(QColor("#ffffff") if white else QColor("#101010"))
        text_box = inner.adjusted(0, side * 0.28, 0, 0) if kind == "triangle" else inner
        painter.drawText(text_box, Qt.AlignmentFlag.AlignCenter, PRIORITY_NUMBER[priority])
    painter.restore()


_PIXMAPS = PixmapCache(limit=256)


def priority_pixmap(priority: Priority, size: int, *, lit: bool = True, color: str = "") -> QPixmap:
    """A cached pixmap of the priority's shape (for tables and buttons)."""
    fill = QColor(color or PRIORITY_COLORS[priority])
    return _PIXMAPS.get(*_priority_picture(priority, size, lit, fill, 1.0))


def _priority_picture(
    priority: Priority, size: int, lit: bool, color: QColor, dpr: float
) -> tuple[Hashable, int, int, float, Callable[[QPainter], None]]:
    """What ``PixmapCache`` takes for the priority's shape: key, size, pixel ratio, painter."""
    box = QRectF(0, 0, size, size)
    return (
        (priority, lit, color.rgba()),
        size,
        size,
        dpr,
        lambda painter: paint_priority(painter, box, priority, color, lit=lit),
    )


def most_urgent(statuses: Iterable[AlarmStatus]) -> AlarmStatus | None:
    """The first of the most urgent priority (the engine's lists come newest first)."""
    return min(statuses, key=lambda s: s.priority.rank, default=None)


def _mark_color(priority: Priority) -> Property:
    return color_property(priority.value, PRIORITY_COLORS[priority], changed="_show_picture")


class AlarmMark(CornerMark):
    """The small priority mark on one bound widget, for every tag of it that has alarms."""

    criticalColor = _mark_color(Priority.CRITICAL)
    highColor = _mark_color(Priority.HIGH)
    mediumColor = _mark_color(Priority.MEDIUM)
    lowColor = _mark_color(Priority.LOW)

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.setObjectName("AlarmMark")
        self._colors: dict[str, QColor] = {}
        self._shown: tuple[object, ...] | None = None
        self.tags: set[str] = set()
        self.priority: Priority | None = None
        self.unacknowledged = False
        self.lit = True
        self._size = round(MARK_PX)
        self.hide()
        self.place()

    def show_alarm(self, priority: Priority | None, unacknowledged: bool, lit: bool) -> None:
        lit = lit or not unacknowledged  # only unacknowledged marks blink
        if (priority, unacknowledged, lit) == (self.priority, self.unacknowledged, self.lit):
            return
        self.priority, self.unacknowledged, self.lit = priority, unacknowledged, lit
        self._show_picture()
        self.setVisible(priority is not None)

    def set_size(self, size: int) -> None:
        self._size = max(8, size)
        self.place()

    def place(self) -> None:
        host = self.parentWidget()
        if host is None:
            return
        size = min(self._size, max(8, host.height() - 2))
        self.setGeometry(1, 1, size, size)
        self.raise_()
        self._show_picture()

    def _show_picture(self) -> None:
        if self.priority is None:
            return
        color = self._colors.get(self.priority.value, QColor(PRIORITY_COLORS[self.priority]))
        size, dpr = self.width(), self.devicePixelRatioF()
        shown = (self.priority, self.lit, color.rgba(), size, dpr)
        if shown == self._shown:
            return  # a blink swaps two cached pictures: nothing is drawn again
        self._shown = shown
        self.show_picture(
            _PIXMAPS.get(*_priority_picture(self.priority, size, self.lit, color, dpr))
        )


class AlarmMarks(QObject):
    """Keeps the marks of every bound widget in step with the alarm service. Listener calls
    may come from any thread: they are handed to the UI thread and coalesced (``refresh_ms``).
    """

    changed = Signal()
    _arrived = Signal()

    def __init__(
        self,
        alarms: AlarmFigures,
        *,
        refresh_ms: int = 200,
        blink_ms: int = BLINK_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._alarms = alarms
        self._by_tag: dict[str, list[AlarmStatus]] = {}
        self._marks: dict[int, AlarmMark] = {}  # by id() of the host widget
        self.lit = True
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(refresh_ms)
        self._refresh.timeout.connect(self.refresh)
        self._blink = QTimer(self)
        self._blink.setInterval(blink_ms)
        self._blink.timeout.connect(self._toggle)
        self._arrived.connect(self._schedule, Qt.ConnectionType.QueuedConnection)
        alarms.add_listener(self._on_event)
        self.refresh()

    def _on_event(self, event: AlarmEvent) -> None:
        self._arrived.emit()

    def _schedule(self) -> None:
        """One refresh per interval however many events arrive: restarting the timer on each
        event would put the refresh off for as long as a flood lasts."""
        if not self._refresh.isActive():
            self._refresh.start()

    def release(self) -> None:
        """Stop listening (the station is stopping)."""
        self._refresh.stop()
        self._blink.stop()
        with contextlib.suppress(ValueError):
            self._alarms.remove_listener(self._on_event)

    # -- what widgets call (through TagBinding) ------------------------------------------------

    def attach(self, host: QWidget, tag: str) -> AlarmMark:
        """The mark of ``host`` (one per widget, whatever the number of its tags)."""
        mark = self._marks.get(id(host))
        if mark is None or not shiboken6.isValid(mark):
            mark = AlarmMark(host)
            self._marks[id(host)] = mark
        mark.tags.add(tag)
        self._show(mark)
        return mark

    def detach(self, mark: AlarmMark, tag: str) -> None:
        if not shiboken6.isValid(mark):
            self._marks = {k: m for k, m in self._marks.items() if shiboken6.isValid(m)}
            return
        mark.tags.discard(tag)
        if not mark.tags:
            host = mark.parentWidget()
            self._marks.pop(id(host), None)
            mark.hide()
            mark.deleteLater()

    def alarms_of(self, tag: str) -> list[AlarmStatus]:
        """The annunciated alarms on ``tag``, most urgent first."""
        return list(self._by_tag.get(tag, ()))

    def describe(self, tag: str) -> list[str]:
        """Tooltip lines for the alarms on ``tag``."""
        return [
            f"Alarm {PRIORITY_NUMBER[s.priority]} ({s.priority.value}): {s.message} — "
            f"{'unacknowledged' if s.state in UNACKNOWLEDGED else s.state.value}"
            for s in self._by_tag.get(tag, ())
        ]

    # -- updates -------------------------------------------------------------------------------

    def refresh(self) -> None:
        by_tag: dict[str, list[AlarmStatus]] = {}
        for status in self._alarms.summary():
            by_tag.setdefault(status.tag, []).append(status)
        for statuses in by_tag.values():
            statuses.sort(key=lambda s: s.priority.rank)  # stable: newest first within one
        self._by_tag = by_tag
        blinking = False
        for mark in list(self._marks.values()):
            if shiboken6.isValid(mark):
                blinking |= self._show(mark)
        if blinking and not self._blink.isActive():
            self.lit = True
            self._blink.start()
        elif not blinking:
            self._blink.stop()
            self.lit = True
        self.changed.emit()

    def _show(self, mark: AlarmMark) -> bool:
        statuses = [s for tag in mark.tags for s in self._by_tag.get(tag, ())]
        top = most_urgent(statuses)
        unack = any(s.state in UNACKNOWLEDGED for s in statuses)
        mark.show_alarm(None if top is None else top.priority, unack, self.lit)
        return unack

    def _toggle(self) -> None:
        self.lit = not self.lit
        for mark in self._marks.values():
            if shiboken6.isValid(mark) and mark.unacknowledged:
                mark.show_alarm(mark.priority, True, self.lit)
