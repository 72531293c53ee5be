"""A picture from the project folder (PNG, JPEG or SVG), scaled keeping its aspect.

The picture is drawn at the widget's size when the size changes and shown as the label's
pixmap, so Qt paints it without Python (see ``hmi.widgets.picture``)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QRectF, QSizeF, Qt
from PySide6.QtGui import QPainter, QPixmap, QResizeEvent
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QLabel, QWidget

from hmi.model.screens.schema import ImageSpec
from hmi.widgets.base import expression_bad
from hmi.widgets.context import WidgetContext
from hmi.widgets.picture import draw_pixmap
from hmi.widgets.theme import chrome
from hmi.widgets.theme.dress import Dress, put_on, quality_line

log = logging.getLogger(__name__)


class ImageWidget(QLabel):
    """A file that is missing or unreadable shows a marked placeholder naming it (``broken``
    property ``true``, reason in ``problem`` and the tooltip) rather than an empty space."""

    def __init__(self, spec: ImageSpec, ctx: WidgetContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.path = ctx.project_root / spec.source
        self.problem = ""
        self._svg: QSvgRenderer | None = None
        self._pixmap: QPixmap | None = None
        self._shown: tuple[int, int, float] | None = None
        if not self.path.is_file():
            self.problem = f"image not found: {self.path}"
        elif self.path.suffix.lower() == ".svg":
            self._svg = QSvgRenderer(str(self.path))
            if not self._svg.isValid():
                self.problem = f"not a valid SVG image: {self.path}"
        else:
            pixmap = QPixmap(str(self.path))
            if pixmap.isNull():
                self.problem = f"cannot read image (PNG or JPEG expected): {self.path}"
            else:
                self._pixmap = pixmap
        if self.problem:
            log.warning("%s", self.problem)
            self.setProperty("broken", "true")
        self.setToolTip(self.problem or spec.tooltip)
        if self.problem or self.natural_size.isEmpty():
            # the placeholder: text in the theme's colour, inside its dashed outline (redress)
            self.setTextFormat(Qt.TextFormat.PlainText)
            self.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.setWordWrap(True)
            self.setMargin(2)
            self.setText(f"image?\n{spec.source}")

    @property
    def natural_size(self) -> QSizeF:
        if self._svg is not None and not self.problem:
            return self._svg.viewBoxF().size()
        if self._pixmap is not None:
            return QSizeF(self._pixmap.size())
        return QSizeF()

    def apply_scale(self, scale: float) -> None:
        """The picture follows the size (``resizeEvent``)."""

    def release(self) -> None:
        """Nothing bound."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.redress()
        self._show_picture()

    def redress(self) -> None:
        """A broken image (or one whose ``visible:`` cannot be evaluated) is outlined dashed,
        its placeholder text in the same colour."""
        colors = chrome.colors()
        if colors is None:
            return
        broken = self.property("broken") == "true"
        line = quality_line(colors, "bad" if broken else "good", expression_bad(self))
        put_on(self, Dress(text=colors.rgba("untrusted") if broken else None, line=line))

    def _show_picture(self) -> None:
        natural = self.natural_size
        if self.problem or natural.isEmpty():
            return
        area = self.contentsRect()
        dpr = self.devicePixelRatioF()
        if (area.width(), area.height(), dpr) == self._shown:
            return
        self._shown = (area.width(), area.height(), dpr)
        if area.isEmpty():
            self.clear()
            return
        box = QRectF(0, 0, area.width(), area.height())
        size = natural.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRectF(0, 0, size.width(), size.height())
        target.moveCenter(box.center())

        def paint(painter: QPainter) -> None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            if self._svg is not None:
                self._svg.render(painter, target)
            elif self._pixmap is not None:
                painter.drawPixmap(target, self._pixmap, QRectF(self._pixmap.rect()))

        self.setPixmap(draw_pixmap(area.width(), area.height(), dpr, paint))
