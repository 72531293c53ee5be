"""The alarm banner in the header: how many alarms of each priority (shape, colour and number),
the most important unacknowledged ones on one or two lines (priority, then newest), what is
hidden (shelved, suppressed, out of service), the horn and its Silence button. A click opens
the alarm summary. Grey and quiet when nothing is wrong: "No active alarms".

The banner refreshes at most every ``refresh_ms`` (``flood_ms`` in a flood) from the events
gathered since the last refresh (``AlarmChanges``): it reads again only the alarms that changed
and keeps the unacknowledged ones in order (``AlarmList``), so a refresh costs the changes, not
the summary.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from hmi.model.alarms.definitions import Priority
from hmi.model.alarms.states import ANNUNCIATED, UNACKNOWLEDGED, AlarmState, AlarmStatus
from hmi.runtime.alarms import AlarmChanges, AlarmList
from hmi.views.alarms.tone import AlarmHorn, SystemTone, ToneOutput
from hmi.widgets.alarm_mark import BLINK_MS, PRIORITY_COLORS, AlarmFigures, paint_priority
from hmi.widgets.base import color_property, repolish

__all__ = ["AlarmBanner"]

BANNER_HEIGHT = 36
_ZERO = QColor("#a4a4a4")
_STATE_NOTE = {
    AlarmState.RTN_UNACK: "returned to normal",
    AlarmState.LATCHED_UNACK: "latched, returned to normal",
}


def _urgency(status: AlarmStatus) -> tuple[int, float, str]:
    """The summary's order: priority, then newest first."""
    when = status.activated_at if status.activated_at is not None else status.since
    return (status.priority.rank, -when, status.alarm_id)


def clock(seconds: float | None) -> str:
    """Local time of day, with the date when it is not today."""
    if seconds is None:
        return "--:--:--"
    moment = datetime.fromtimestamp(seconds)
    if moment.date() == datetime.now().date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%m-%d %H:%M:%S")


class PriorityCount(QWidget):
    """One priority's shape and how many alarms of it are annunciated (grey when none)."""

    criticalColor = color_property("critical", PRIORITY_COLORS[Priority.CRITICAL])
    highColor = color_property("high", PRIORITY_COLORS[Priority.HIGH])
    mediumColor = color_property("medium", PRIORITY_COLORS[Priority.MEDIUM])
    lowColor = color_property("low", PRIORITY_COLORS[Priority.LOW])

    def __init__(self, priority: Priority, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AlarmCount")
        self.priority = priority
        self.count = 0
        self.unacknowledged = 0
        self._colors: dict[str, QColor] = {}
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(52, 28)

    def set_count(self, count: int, unacknowledged: int) -> None:
        if (count, unacknowledged) != (self.count, self.unacknowledged):
            self.count, self.unacknowledged = count, unacknowledged
            self.setToolTip(
                f"{count} {self.priority.value} priority alarm(s), {unacknowledged} unacknowledged"
            )
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        side = min(self.height() - 6, 22)
        box = QRectF(2, (self.height() - side) / 2, side, side)
        if self.count:
            color = self._colors.get(self.priority.value, QColor(PRIORITY_COLORS[self.priority]))
            paint_priority(painter, box, self.priority, color)
        else:
            paint_priority(painter, box, self.priority, _ZERO, lit=False)
        font = QFont(self.font())
        font.setBold(self.count > 0)
        painter.setFont(font)
        painter.setPen(self.palette().windowText().color() if self.count else _ZERO.darker(120))
        text_box = QRectF(side + 6, 0, self.width() - side - 6, self.height())
        painter.drawText(text_box, Qt.AlignmentFlag.AlignVCenter, str(self.count))
        painter.end()


LINE_MIN_PX = 200
"""Room an alarm line keeps for its message when the header is short (1280 px): the project
name and screen title give way first (``hmi.views.header.HeaderText``)."""


class AlarmLine(QWidget):
    """One alarm on the banner: its priority shape (blinking while unacknowledged), time and
    message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AlarmBannerLine")
        self.status: AlarmStatus | None = None
        self.lit = True
        self.text = ""  # time, message and state note (the tooltip)
        self.short = ""  # message and state note: what is drawn when the whole is too long
        self.setMinimumWidth(LINE_MIN_PX)

    def set_status(self, status: AlarmStatus | None) -> None:
        self.status = status
        self.text = self.short = ""
        if status is not None:
            note = _STATE_NOTE.get(status.state)
            when = status.activated_at if status.activated_at is not None else status.since
            self.short = status.message + (f"   ({note})" if note else "")
            self.text = f"{clock(when)}   {self.short}"
        self.setToolTip(self.text)
        self.update()

    def set_lit(self, lit: bool) -> None:
        if lit != self.lit:
            self.lit = lit
            self.update()

    def drawn(self, metrics: QFontMetrics, room: int) -> str:
        """The text drawn in ``room`` px: short of room the time goes first (which alarm it is
        matters more than when), then the message is elided."""
        whole = self.text if metrics.horizontalAdvance(self.text) <= room else self.short
        return metrics.elidedText(whole, Qt.TextElideMode.ElideRight, room)

    def paintEvent(self, event: QPaintEvent) -> None:
        status = self.status
        if status is None:
            return
        painter = QPainter(self)
        side = min(self.height() - 1, 15)
        box = QRectF(0, (self.height() - side) / 2, side, side)
        paint_priority(painter, box, status.priority, lit=self.lit, number=False)
        font = QFont(self.font())
        font.setBold(status.state is AlarmState.UNACK)
        painter.setFont(font)
        painter.setPen(self.palette().windowText().color())
        text_box = QRectF(side + 6, 0, self.width() - side - 6, self.height())
        shown = self.drawn(painter.fontMetrics(), int(text_box.width()))
        painter.drawText(text_box, Qt.AlignmentFlag.AlignVCenter, shown)
        painter.end()


class SilenceButton(QPushButton):
    """The horn's Silence button: as wide as its text in bold. While the horn sounds the theme
    draws it bold in a 2 px frame, but Qt sizes it by its plain font, so at 1280 px (where the
    header has no room to spare) "Silence" was drawn cut."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        bold = QFont(self.font())
        bold.setBold(True)
        plain, wide = self.fontMetrics(), QFontMetrics(bold)
        extra = wide.horizontalAdvance(self.text()) - plain.horizontalAdvance(self.text())
        return QSize(hint.width() + max(0, extra) + 2, hint.height())  # +2: the wider frame

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()


class AlarmBanner(QFrame):
    """``alarms`` is the alarm service; ``tone`` what plays the horn (default: the system's)."""

    open_summary = Signal()
    _arrived = Signal()

    def __init__(
        self,
        alarms: AlarmFigures,
        *,
        tone: ToneOutput | None = None,
        repeat_s: float = 10.0,
        lines: int = 2,
        refresh_ms: int = 100,
        flood_ms: int = 500,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("AlarmBanner")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Open the alarm summary")
        self.setMinimumHeight(28)
        self.setMaximumHeight(44)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._alarms = alarms
        self._annunciated: dict[str, AlarmStatus] = {}
        self._waiting = AlarmList(_urgency, lambda s: s.state in UNACKNOWLEDGED)
        self.horn = AlarmHorn(tone or SystemTone(), repeat_s=repeat_s, parent=self)
        self.counts: dict[Priority, PriorityCount] = {}
        self.top: list[AlarmStatus] = []

        row = QHBoxLayout(self)
        row.setContentsMargins(6, 1, 4, 1)
        row.setSpacing(4)
        for priority in Priority:
            count = PriorityCount(priority, self)
            self.counts[priority] = count
            row.addWidget(count)
        row.addSpacing(8)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.lines = [AlarmLine(self) for _ in range(max(1, lines))]
        self.placeholder = QLabel("No active alarms", self)
        self.placeholder.setObjectName("AlarmBannerText")
        column.addWidget(self.placeholder)
        for line in self.lines:
            column.addWidget(line)
        row.addLayout(column, 1)
        self.masked = QLabel("", self)
        self.masked.setObjectName("AlarmBannerMasked")
        row.addWidget(self.masked)
        self.silence_button = SilenceButton("Silence", self)
        self.silence_button.setObjectName("AlarmSilence")
        self.silence_button.setToolTip("Silence the alarm tone until the next new alarm")
        self.silence_button.setCursor(Qt.CursorShape.ArrowCursor)
        self.silence_button.clicked.connect(self.silence)
        row.addWidget(self.silence_button)
        self._show_sounding(False)
        self.horn.sounding_changed.connect(self._show_sounding)

        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(refresh_ms)
        self._paces = (refresh_ms, flood_ms)
        self._refresh.timeout.connect(self.refresh)
        self._blink = QTimer(self)
        self._blink.setInterval(BLINK_MS)
        self._blink.timeout.connect(self._toggle)
        self._lit = True
        self._arrived.connect(self._schedule, Qt.ConnectionType.QueuedConnection)
        self._changes = AlarmChanges(alarms, self._arrived.emit)
        self._reload()
        self.refresh()

    def sizeHint(self) -> QSize:
        return QSize(640, BANNER_HEIGHT)

    # -- events --------------------------------------------------------------------------------

    def _schedule(self) -> None:
        """The first event since the last refresh (the others come with it)."""
        if not self._refresh.isActive():
            self._refresh.start()

    def _reload(self) -> None:
        summary = self._alarms.summary()
        self._annunciated = {s.alarm_id: s for s in summary}
        self._waiting.reset(summary)

    def _take(self) -> None:
        batch = self._changes.take()
        self._refresh.setInterval(self._paces[batch.flood])  # a flood: fewer, bigger refreshes
        for event in batch.events:
            self.horn.on_event(event)
        if batch.lost:
            self._reload()
            return
        for alarm_id in batch.alarm_ids:
            status = self._alarms.status(alarm_id)
            if status.state in ANNUNCIATED:
                self._annunciated[alarm_id] = status
            else:
                self._annunciated.pop(alarm_id, None)
            self._waiting.put(status)

    def refresh(self) -> None:
        """Take in the events since the last refresh and show the figures."""
        self._take()
        shown = dict.fromkeys(Priority, 0)
        unack = dict.fromkeys(Priority, 0)
        for status in self._annunciated.values():
            shown[status.priority] += 1
        waiting = self._waiting.rows  # priority, then newest
        for status in waiting:
            unack[status.priority] += 1
        for priority, widget in self.counts.items():
            widget.set_count(shown[priority], unack[priority])
        self.top = waiting[: len(self.lines)]
        for index, line in enumerate(self.lines):
            line.set_status(self.top[index] if index < len(self.top) else None)
            line.setVisible(index < len(self.top))
        if self._annunciated and not waiting:
            active = len(self._annunciated)
            self.placeholder.setText(f"No unacknowledged alarms ({active} active)")
        else:
            self.placeholder.setText("No active alarms")
        self.placeholder.setVisible(not self.top)
        figures = self._alarms.counts()
        hidden = [
            f"{n} {what}"
            for n, what in (
                (figures.shelved, "shelved"),
                (figures.suppressed, "suppressed"),
                (figures.out_of_service, "out of service"),
            )
            if n
        ]
        self.masked.setText("  ·  ".join(hidden))
        self.masked.setVisible(bool(hidden))
        self.horn.check(waiting)
        if self.top and not self._blink.isActive():
            self._blink.start()
        elif not self.top:
            self._blink.stop()
            self._lit = True

    def _toggle(self) -> None:
        self._lit = not self._lit
        for line in self.lines:
            line.set_lit(self._lit)

    # -- operator ------------------------------------------------------------------------------

    def silence(self) -> None:
        self.horn.silence()

    def _show_sounding(self, sounding: bool) -> None:
        self.silence_button.setEnabled(sounding)
        self.silence_button.setProperty("sounding", "true" if sounding else "false")
        repolish(self.silence_button)

    def text(self) -> str:
        """What the banner says, as plain text (tests, accessibility)."""
        counts = "  ".join(f"{p.value} {w.count}" for p, w in self.counts.items())
        lines = [line.text for line in self.lines if line.isVisibleTo(self) and line.text]
        body = " | ".join(lines) if lines else self.placeholder.text()
        return f"{counts} | {body}"

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.open_summary.emit()
            event.accept()
            return
        super().mousePressEvent(event)

    def release(self) -> None:
        """Stop listening and timing (the station is stopping)."""
        self._refresh.stop()
        self._blink.stop()
        self.horn.silence()
        self._changes.close()
