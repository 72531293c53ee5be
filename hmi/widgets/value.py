"""A tag's value as text: state text or formatted number, with units."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from hmi.model.screen import ValueSpec
from hmi.model.value import TagValue
from hmi.widgets.base import NO_VALUE, TagBinding, scale_font
from hmi.widgets.context import WidgetContext
from hmi.widgets.label import ALIGN

DESIGN_FONT_PX = 16.0


class ValueWidget(QLabel):
    """Keeps the last value visible when the quality turns Bad or Uncertain; the theme marks
    it (outline, greyed text) and the badge says which."""

    def __init__(self, spec: ValueSpec, ctx: WidgetContext, parent: QWidget | None = None) -> None:
        super().__init__(NO_VALUE, parent)
        self.spec = spec
        self.setAlignment(ALIGN[spec.align])
        self.binding = TagBinding(self, ctx, spec.tag, self._on_value, note=spec.tooltip)
        self.binding.bind()
        self.apply_scale(1.0)

    def _on_value(self, value: TagValue) -> None:
        self.setText(self.binding.display(value.value, units=self.spec.units, fmt=self.spec.format))

    def apply_scale(self, scale: float) -> None:
        scale_font(self, self.spec.font_size or DESIGN_FONT_PX, scale)
        self.binding.apply_scale(scale)

    def release(self) -> None:
        self.binding.release()
