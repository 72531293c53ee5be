"""A level bar over the tag's (or the spec's) range, with the tag's limits marked.

Drawn by Qt alone: the bar's background is one cached picture of the quality outline and the
trough (``hmi.widgets.theme.dress``), the fill and the limit marks are child frames that fill
themselves with a role of the bar's one palette (one ``setPalette`` a change), placed from
Python only when the value or the size changes. A Python ``paintEvent`` would need the
interpreter for every bar of every frame, and with the network drivers decoding on the I/O
thread each of those calls waits for the GIL: 250 bars took 20 ms to paint alone and 350-500
ms beside a busy thread. The trough is in the bar's picture rather than a frame of its own: a
child that fills its background costs a painter of its own at every paint, and its role a
palette propagation at every build (a tenth of what the theme added to a screen of bars)."""

from __future__ import annotations

import math

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QBrush, QPainter, QPalette, QResizeEvent
from PySide6.QtWidgets import QFrame, QWidget

from hmi.model.screens.schema import BarSpec
from hmi.model.value import TagValue
from hmi.widgets.base import BoundHost, TagBinding, expression_bad, resize_due
from hmi.widgets.context import WidgetContext
from hmi.widgets.picture import EVERY_ROLE, PixmapCache
from hmi.widgets.theme import chrome
from hmi.widgets.theme.dress import Dress, Line, paint_dress, quality_line

DEFAULT_RANGE = (0.0, 100.0)
LIMIT_NAMES = ("lolo", "lo", "hi", "hihi")
INSET = 3  # px between the widget's edge (its quality outline) and the bar
FRAME_PX = 1  # the trough's frame line


# the role of the bar's palette each part fills itself with
FILL_ROLE = QPalette.ColorRole.Dark
MARK_ROLE = QPalette.ColorRole.Shadow
_PALETTES: dict[tuple[object, ...], QPalette] = {}
_PALETTE_LIMIT = 512
_PICTURES = PixmapCache(limit=256)


def _paint_bar(
    painter: QPainter, width: int, height: int, line: Line | None, trough: QRect, dress: Dress
) -> None:
    """The bar's picture: its quality outline (or none) and the trough in its place."""
    paint_dress(painter, width, height, Dress(line=line))
    if trough.width() > 0 and trough.height() > 0:
        painter.translate(trough.x(), trough.y())
        paint_dress(painter, trough.width(), trough.height(), dress)


def _part(parent: QWidget, name: str, role: QPalette.ColorRole | None, dressed: bool) -> QFrame:
    """A child frame of the bar that, themed, fills itself with ``role`` of the bar's palette
    (None: it fills nothing, a frame the others are placed in)."""
    part = QFrame(parent)
    part.setObjectName(name)
    part.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # tooltips: the bar's
    if dressed and role is not None:
        part.setBackgroundRole(role)
        part.setAutoFillBackground(True)
    return part


class BarWidget(BoundHost, QWidget):
    """Fills from the low end of the range; values beyond it are clamped to the ends. The fill
    turns a lighter grey while the value is not Good (the theme outlines the widget too).
    lo/hi are thin marks across the bar, lolo/hihi thick ones."""

    def __init__(self, spec: BarSpec, ctx: WidgetContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self._scale = 1.0
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        dressed = chrome.colors() is not None
        self._worn: tuple[object, ...] | None = None
        self.trough = _part(self, "BarTrough", None, dressed)  # painted in the bar's picture
        self.fill = _part(self.trough, "BarFill", FILL_ROLE, dressed)
        self.fill.hide()
        self.marks: dict[str, QFrame] = {}
        self.binding = TagBinding(self, ctx, spec.tag, self._on_value, note=spec.tooltip)
        for name in self.limit_marks():
            major = name in ("lolo", "hihi")
            self.marks[name] = _part(
                self, "BarLimitMajor" if major else "BarLimit", MARK_ROLE, dressed
            )
        self.binding.bind()
        self.apply_scale(1.0)
        self.binding.dress_with(self.redress, on_resize=False)  # _place dresses after a resize

    def redress(self) -> None:
        """One palette for the bar and its parts: a picture of the bar's quality outline and
        its trough, the fill (a lighter grey while the value is not Good), the limit marks."""
        colors = chrome.colors()
        if colors is None or not self.binding.dressing:
            return
        good = self.binding.css == "good"
        line = quality_line(colors, self.binding.css, expression_bad(self))
        trough, dpr = self.trough.geometry(), self.devicePixelRatioF()
        width, height = self.width(), self.height()
        key = (line, width, height, trough.getRect(), good, dpr)
        if key == self._worn or not self.testAttribute(Qt.WidgetAttribute.WA_Resized):
            return
        self._worn = key
        palette = _PALETTES.get(key)
        if palette is None:
            dress = Dress(
                fill=colors.rgba("troughFill"), line=Line(colors.rgba("troughLine"), FRAME_PX)
            )
            picture = _PICTURES.get(
                (line, trough.getRect(), dress), max(1, width), max(1, height), dpr,
                lambda painter: _paint_bar(painter, width, height, line, trough, dress),
            )  # fmt: skip
            palette = QPalette()
            palette.setBrush(QPalette.ColorRole.Window, QBrush(picture))
            palette.setColor(FILL_ROLE, colors["barFill" if good else "barStale"])
            palette.setColor(MARK_ROLE, colors["limitMark"])
            palette.setResolveMask(EVERY_ROLE)  # worn as it is, as a dress's palette is
            if len(_PALETTES) >= _PALETTE_LIMIT:
                _PALETTES.clear()
            _PALETTES[key] = palette
        if not self.autoFillBackground():
            self.setAutoFillBackground(True)
        self.setPalette(palette)

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
        self._place_fill()

    def apply_scale(self, scale: float) -> None:
        self._scale = scale
        self.binding.apply_scale(scale)
        if not resize_due(self):  # else its resize event places the parts, once
            self._place()

    def release(self) -> None:
        self.binding.release()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place()

    # -- geometry (Python runs here, on value and size changes; never while painting) ----------

    def _trough_rect(self) -> QRect:
        mark = max(3, round(5 * self._scale))
        inner = self.rect().adjusted(INSET, INSET, -INSET, -INSET)
        if self.vertical:
            return inner.adjusted(mark, 0, -mark, 0)
        return inner.adjusted(0, mark, 0, -mark)

    def _place(self) -> None:
        trough = self._trough_rect()
        self.trough.setGeometry(trough)
        self.trough.setVisible(trough.width() > 0 and trough.height() > 0)
        inner = self.rect().adjusted(INSET, INSET, -INSET, -INSET)
        marks = self.limit_marks()
        for name, part in self.marks.items():
            where = marks.get(name)
            if where is None:
                part.hide()
                continue
            width = max(1, round((3.0 if name in ("lolo", "hihi") else 1.5) * self._scale))
            if self.vertical:
                at = trough.bottom() + 1 - round(where * trough.height())
                part.setGeometry(inner.left(), at - width // 2, inner.width(), width)
            else:
                at = trough.left() + round(where * trough.width())
                part.setGeometry(at - width // 2, inner.top(), width, inner.height())
            part.show()
            part.raise_()
        self._place_fill()
        self.redress()  # the trough's picture has its size

    def _place_fill(self) -> None:
        fraction = self.fill_fraction()
        size = self.trough.size()
        inside = QRect(
            FRAME_PX, FRAME_PX, size.width() - 2 * FRAME_PX, size.height() - 2 * FRAME_PX
        )
        if fraction is None or fraction <= 0 or inside.width() <= 0 or inside.height() <= 0:
            self.fill.hide()
            return
        if self.vertical:
            height = round(fraction * inside.height())
            rect = QRect(inside.left(), inside.bottom() + 1 - height, inside.width(), height)
        else:
            rect = QRect(
                inside.left(), inside.top(), round(fraction * inside.width()), inside.height()
            )
        if rect.width() <= 0 or rect.height() <= 0:
            self.fill.hide()
            return
        self.fill.setGeometry(rect)
        self.fill.show()
