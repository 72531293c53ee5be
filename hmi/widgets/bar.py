"""A level bar over the tag's (or the spec's) range, with the tag's limits marked."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from hmi.model.screen import BarSpec
from hmi.model.value import TagValue
from hmi.widgets.base import TagBinding, color_property, draw_styled_background
from hmi.widgets.context import WidgetContext

DEFAULT_RANGE = (0.0, 100.0)
LIMIT_NAMES = ("lolo", "lo", "hi", "hihi")


class BarWidget(QWidget):
    """Fills from the low end of the range; values beyond it are clamped to the ends. The fill
    turns a lighter grey while the value is not Good (the theme outlines the widget too).
    lo/hi are thin marks across the bar, lolo/hihi thick ones."""

    troughColor = color_property("troughColor", "#ececec")
    frameColor = color_property("frameColor", "#6a6a6a")
    fillColor = color_property("fillColor", "#565656")
    untrustedFillColor = color_property("untrustedFillColor", "#a4a4a4")
    limitColor = color_property("limitColor", "#1e1e1e")

    def __init__(self, spec: BarSpec, ctx: WidgetContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self._colors: dict[str, QColor] = {}
        self._scale = 1.0
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.binding = TagBinding(self, ctx, spec.tag, self._on_value, note=spec.tooltip)
        self.binding.bind()
        self.apply_scale(1.0)

    @property
    def vertical(self) -> bool:
        return self.spec.orientation == "vertical"

    def value_range(self) -> tuple[float, float]:
        if self.spec.range is not None:
            return self.spec.range
        config = self.binding.config
        if config is not None and config.range is not None:
            return config.range
        return DEFAULT_RANGE

    def fraction(self, number: float) -> float:
        """Where ``number`` sits in the range, 0..1 (clamped)."""
        low, high = self.value_range()
        if high == low:
            return 0.0
        return min(1.0, max(0.0, (number - low) / (high - low)))

    def fill_fraction(self) -> float | None:
        """How full the bar is drawn, or None when there is no number to show."""
        value = self.binding.value.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if not math.isfinite(value):
            return None
        return self.fraction(float(value))

    def limit_marks(self) -> dict[str, float]:
        """The tag's limits inside the range, as fractions of the bar."""
        config = self.binding.config
        if not self.spec.show_limits or config is None:
            return {}
        low, high = self.value_range()
        marks = {}
        for name in LIMIT_NAMES:
            limit = getattr(config.limits, name)
            if limit is not None and low <= limit <= high:
                marks[name] = self.fraction(limit)
        return marks

    def _on_value(self, value: TagValue) -> None:
        self.update()

    def apply_scale(self, scale: float) -> None:
        self._scale = scale
        self.binding.apply_scale(scale)
        self.update()

    def release(self) -> None:
        self.binding.release()

    def _along(self, trough: QRectF, fraction: float) -> float:
        if self.vertical:
            return trough.bottom() - fraction * trough.height()
        return trough.left() + fraction * trough.width()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        draw_styled_background(self, painter)
        scale = self._scale
        mark = max(3.0, 5.0 * scale)
        inner = QRectF(self.rect()).adjusted(3, 3, -3, -3)
        if self.vertical:
            trough = inner.adjusted(mark, 0, -mark, 0)
        else:
            trough = inner.adjusted(0, mark, 0, -mark)
        if trough.width() <= 0 or trough.height() <= 0:
            painter.end()
            return
        frame_width = max(1.0, scale)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.troughColor)
        painter.drawRect(trough)
        fraction = self.fill_fraction()
        if fraction is not None and fraction > 0:
            fill = QRectF(trough)
            if self.vertical:
                fill.setTop(self._along(trough, fraction))
            else:
                fill.setRight(self._along(trough, fraction))
            good = self.binding.quality.is_good
            painter.setBrush(self.fillColor if good else self.untrustedFillColor)
            painter.drawRect(fill)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(self.frameColor, frame_width))
        half = frame_width / 2
        painter.drawRect(trough.adjusted(half, half, -half, -half))
        for name, where in self.limit_marks().items():
            width = (3.0 if name in ("lolo", "hihi") else 1.5) * scale
            painter.setPen(QPen(self.limitColor, max(1.0, width)))
            at = self._along(trough, where)
            if self.vertical:
                painter.drawLine(QPointF(inner.left(), at), QPointF(inner.right(), at))
            else:
                painter.drawLine(QPointF(at, inner.top()), QPointF(at, inner.bottom()))
        painter.end()
