"""Static text: titles, headings, captions and plain labels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget

from hmi.model.screens.schema import LabelSpec
from hmi.widgets.base import expression_bad, screen_font_px
from hmi.widgets.context import WidgetContext
from hmi.widgets.theme import chrome
from hmi.widgets.theme.dress import Dress, put_on, quality_line

ALIGN = {
    "left": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
    "center": Qt.AlignmentFlag.AlignCenter,
    "right": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
}

# design pixel size and weight per style; the colour comes from the theme
STYLE_COLORS = {
    "normal": "labelText",
    "heading": "labelText",
    "title": "titleText",
    "caption": "captionText",
}
STYLE_FONTS = {
    "normal": (14.0, False),
    "heading": (18.0, True),
    "title": (24.0, True),
    "caption": (11.0, False),
}


class LabelWidget(QLabel):
    def __init__(self, spec: LabelSpec, ctx: WidgetContext, parent: QWidget | None = None) -> None:
        super().__init__(spec.text, parent)
        self.spec = spec
        self.setProperty("labelStyle", spec.style)
        self.setAlignment(ALIGN[spec.align])
        # A note longer than its box wraps onto the next line instead of being cut (the
        # text grows at the 9 px floor on small windows).
        self.setWordWrap(True)
        if spec.tooltip:
            self.setToolTip(spec.tooltip)
        self.redress()
        self.apply_scale(1.0)

    def redress(self) -> None:
        """The style's text colour; dashed when its ``visible:`` cannot be evaluated."""
        colors = chrome.colors()
        if colors is not None:
            line = quality_line(colors, "good", expression_bad(self))
            put_on(self, Dress(text=colors.rgba(STYLE_COLORS[self.spec.style]), line=line))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if expression_bad(self):
            self.redress()  # the outline is a picture of its size

    def apply_scale(self, scale: float) -> None:
        size, bold = STYLE_FONTS[self.spec.style]
        font = self.font()
        font.setPixelSize(screen_font_px(self.spec.font_size or size, scale))
        font.setBold(bold)
        self.setFont(font)

    def release(self) -> None:
        """Nothing bound."""
