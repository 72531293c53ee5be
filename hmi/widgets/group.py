"""A frame around related widgets, with an optional title; the canvas adds the children."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QWidget

from hmi.model.screens.schema import GroupSpec
from hmi.widgets.base import scale_font
from hmi.widgets.context import WidgetContext

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
        self.apply_scale(1.0)

    def apply_scale(self, scale: float) -> None:
        scale_font(self.title_label, self.spec.font_size or DESIGN_FONT_PX, scale, bold=True)
        self.title_label.adjustSize()
        self.title_label.move(max(2, round(6 * scale)), max(1, round(3 * scale)))
        self.title_label.lower()

    def release(self) -> None:
        """Nothing bound: the canvas releases the children."""
