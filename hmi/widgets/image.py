"""A picture from the project folder (PNG, JPEG or SVG), scaled keeping its aspect."""

from __future__ import annotations

import logging

from PySide6.QtCore import QRectF, QSizeF, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QWidget

from hmi.model.screen import ImageSpec
from hmi.widgets.base import draw_styled_background
from hmi.widgets.context import WidgetContext

log = logging.getLogger(__name__)


class ImageWidget(QWidget):
    """A file that is missing or unreadable shows a marked placeholder naming it (``broken``
    property ``true``, reason in ``problem`` and the tooltip) rather than an empty space."""

    def __init__(self, spec: ImageSpec, ctx: WidgetContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.path = ctx.project_root / spec.source
        self.problem = ""
        self._svg: QSvgRenderer | None = None
        self._pixmap: QPixmap | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
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

    @property
    def natural_size(self) -> QSizeF:
        if self._svg is not None and not self.problem:
            return self._svg.viewBoxF().size()
        if self._pixmap is not None:
            return QSizeF(self._pixmap.size())
        return QSizeF()

    def apply_scale(self, scale: float) -> None:
        self.update()

    def release(self) -> None:
        """Nothing bound."""

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        draw_styled_background(self, painter)
        box = QRectF(self.rect())
        natural = self.natural_size
        if self.problem or natural.isEmpty():
            painter.drawText(
                box.adjusted(4, 4, -4, -4),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                f"image?\n{self.spec.source}",
            )
            painter.end()
            return
        size = natural.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRectF(0, 0, size.width(), size.height())
        target.moveCenter(box.center())
        if self._svg is not None:
            self._svg.render(painter, target)
        elif self._pixmap is not None:
            painter.drawPixmap(target, self._pixmap, QRectF(self._pixmap.rect()))
        painter.end()
