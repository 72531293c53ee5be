"""The legend under a trend: per pen a check box (shown or hidden), a swatch of its line, its
name and its value: the live value, or the value at the cursor while the cursor is shown.

The value label is what the pen's ``TagBinding`` marks, like any value on a screen: its
``quality`` property, the theme's outline and greyed text (``dress_value``), and the badge.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QWidget

from hmi.widgets.base import NO_VALUE, BoundLabel, scale_font
from hmi.widgets.theme import chrome
from hmi.widgets.theme.dress import Dress, frame_indent, put_on, quality_line
from hmi.widgets.trend.style import PenStyle

ENTRY_MIN_PX = 240  # design width of one legend entry, for the number of columns
VALUE_MARGINS = (4, 2, 18, 2)  # inside its 2 px outline: 2 px before, 16 after (the badge)


class Swatch(QWidget):
    """A short piece of the pen's line (colour, width, dash, step)."""

    def __init__(self, style: PenStyle, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.style_ = style
        self.setFixedSize(QSize(22, 12))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        pen = QPen(QColor(self.style_.color), max(2.0, self.style_.width + 1))
        if self.style_.dash:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        h = self.height()
        if self.style_.step:
            w = self.width()
            low, high = h - 3, 3
            painter.drawPolyline(
                [QPointF(1, low), QPointF(w / 2, low), QPointF(w / 2, high), QPointF(w - 1, high)]
            )
        else:
            painter.drawLine(QPointF(1, h / 2), QPointF(self.width() - 1, h / 2))
        painter.end()


class LegendEntry(QWidget):
    def __init__(self, style: PenStyle, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrendLegendEntry")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.check = QCheckBox(self)
        self.check.setChecked(True)
        self.check.setToolTip("Show or hide this pen")
        self.swatch = Swatch(style, self)
        self.name = QLabel(title, self)
        self.name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        colors = chrome.colors()
        if colors is not None:  # not the trend's frame colour its palette carries
            put_on(self.name, Dress(text=colors.rgba("labelText")))
        self.value = BoundLabel(NO_VALUE, self)  # a TagBinding binds its pen's tag
        self.value.setObjectName("TrendPen")
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if chrome.colors() is not None:
            self.value.setContentsMargins(*VALUE_MARGINS)
        layout.addWidget(self.check)
        layout.addWidget(self.swatch)
        layout.addWidget(self.name, 1)
        layout.addWidget(self.value)

    def apply_scale(self, font_px: float, scale: float) -> None:
        for widget in (self.name, self.value, self.check):
            scale_font(widget, font_px, scale)
        wide = self.value.fontMetrics().horizontalAdvance("0000.00 mm")
        self.value.setMinimumWidth(wide + round(20 * scale))  # room for the quality badge
        if chrome.colors() is not None:
            self.value.setIndent(frame_indent(self.value))

    def dress_value(self, css: str) -> None:
        """The value's outline and text for its quality, as any value on a screen."""
        colors = chrome.colors()
        if colors is not None:
            stale = css in ("bad", "disconnected")
            text = colors.rgba("staleText" if stale else "labelText")
            put_on(self.value, Dress(text=text, line=quality_line(colors, css)))


class TrendLegend(QWidget):
    visibility = Signal(str, bool)  # tag, shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrendLegend")
        self.entries: dict[str, LegendEntry] = {}
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(16)
        self._grid.setVerticalSpacing(0)
        self._columns = 1
        self.entry_px = ENTRY_MIN_PX

    def add(self, style: PenStyle, title: str) -> LegendEntry:
        entry = LegendEntry(style, title, self)
        entry.check.toggled.connect(lambda shown, tag=style.tag: self.visibility.emit(tag, shown))
        self.entries[style.tag] = entry
        self._relayout(force=True)
        return entry

    def remove(self, tag: str) -> None:
        entry = self.entries.pop(tag, None)
        if entry is not None:
            self._grid.removeWidget(entry)
            entry.deleteLater()
            self._relayout(force=True)

    def _relayout(self, *, force: bool = False) -> None:
        columns = max(1, min(len(self.entries), self.width() // max(1, self.entry_px)))
        if columns == self._columns and not force:
            return
        self._columns = columns
        for entry in self.entries.values():
            self._grid.removeWidget(entry)
        for column in range(self._grid.columnCount()):
            self._grid.setColumnStretch(column, 0)
        for index, entry in enumerate(self.entries.values()):
            self._grid.addWidget(entry, index // columns, index % columns)
        for column in range(columns):
            self._grid.setColumnStretch(column, 1)

    def resizeEvent(self, event: object) -> None:
        self._relayout()
