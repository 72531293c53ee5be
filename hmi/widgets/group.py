"""A frame around related widgets, with an optional title; the canvas adds the children."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette, QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QWidget

from hmi.model.screens.schema import GroupSpec
from hmi.widgets.base import expression_bad, scale_font
from hmi.widgets.context import WidgetContext
from hmi.widgets.theme import chrome
from hmi.widgets.theme.dress import Dress, palette_of, put_on, quality_line

DESIGN_FONT_PX = 13.0


class GroupWidget(QFrame):
    """Children's rects are relative to the group; the title sits inside the top-left corner
    (``title_label``), so designers leave room for it."""

    def __init__(self, spec: GroupSpec, ctx: WidgetContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.title_label = QLabel(spec.title, self)
        self.title_label.setObjectName("GroupTitle")
        self.title_label.setVisible(bool(spec.title))
        if spec.tooltip:
            self.setToolTip(spec.tooltip)
        colors = chrome.colors()
        if colors is not None:
            put_on(self.title_label, Dress(text=colors.rgba("groupTitle")))
            # The frame: Qt's 1 px box in the palette's text colour, set before the canvas
            # adds the children (a picture the group's size would be blended over its whole
            # area at every repaint). Each screen widget sets its own text colour.
            self.setFrameShape(QFrame.Shape.Box)
            self.setFrameShadow(QFrame.Shadow.Plain)
            palette = QPalette()
            palette.setColor(QPalette.ColorRole.WindowText, colors["groupLine"])
            self.setPalette(palette)
        self.apply_scale(1.0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if expression_bad(self):
            self.redress()  # the dashed outline is a picture of its size

    def redress(self) -> None:
        """Dashed when its ``visible:`` cannot be evaluated (over the box, made unseen)."""
        colors = chrome.colors()
        if colors is None:
            return
        bad = expression_bad(self)
        line = quality_line(colors, "good", bad)
        palette = QPalette(self.palette())
        if line is not None:
            palette = QPalette(palette_of(Dress(line=line), self.width(), self.height(),
                                          self.devicePixelRatioF()))  # fmt: skip
        palette.setColor(
            QPalette.ColorRole.WindowText, QColor(0, 0, 0, 0) if bad else colors["groupLine"]
        )
        self.setAutoFillBackground(bad)
        self.setPalette(palette)

    def apply_scale(self, scale: float) -> None:
        scale_font(self.title_label, self.spec.font_size or DESIGN_FONT_PX, scale, bold=True)
        self.title_label.adjustSize()
        self.title_label.move(max(2, round(6 * scale)), max(1, round(3 * scale)))
        self.title_label.lower()

    def release(self) -> None:
        """Nothing bound: the canvas releases the children."""
