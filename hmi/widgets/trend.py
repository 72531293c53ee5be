"""Placeholder for the trend: the pens' tag names and live values, until the trend issue
replaces it with a plot."""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QWidget

from hmi.model.screen import TrendSpec
from hmi.model.value import TagValue
from hmi.widgets.base import NO_VALUE, TagBinding, scale_font
from hmi.widgets.context import WidgetContext

DESIGN_FONT_PX = 12.0


class TrendWidget(QFrame):
    """One row per pen: the tag name and its value (``pens[tag]``, a bound label marked by
    quality like any value)."""

    def __init__(self, spec: TrendSpec, ctx: WidgetContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.note = QLabel(f"trend · {spec.span_s / 60:g} min", self)
        self.note.setObjectName("TrendNote")
        layout = QGridLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.note, 0, 0, 1, 2)
        self.names: list[QLabel] = []
        self.pens: dict[str, QLabel] = {}
        self.bindings: list[TagBinding] = []
        for row, tag in enumerate(spec.tags, start=1):
            name = QLabel(tag, self)
            name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            value = QLabel(NO_VALUE, self)
            value.setObjectName("TrendPen")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            layout.addWidget(name, row, 0)
            layout.addWidget(value, row, 1)
            self.names.append(name)
            self.pens[tag] = value
            show = functools.partial(self._show_pen, len(self.bindings))
            binding = TagBinding(value, ctx, tag, show, note=spec.tooltip)
            self.bindings.append(binding)
            binding.bind()
        layout.setRowStretch(len(spec.tags) + 1, 1)
        layout.setColumnStretch(0, 1)
        self.apply_scale(1.0)

    def _show_pen(self, index: int, value: TagValue) -> None:
        binding = self.bindings[index]
        binding.host.setText(binding.display(value.value))  # type: ignore[attr-defined]

    def apply_scale(self, scale: float) -> None:
        size = self.spec.font_size or DESIGN_FONT_PX
        scale_font(self.note, size * 0.9, scale)
        for label in (*self.names, *self.pens.values()):
            scale_font(label, size, scale)
        for label in self.pens.values():
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance("0000.00 mm") + 20)
        for binding in self.bindings:
            binding.apply_scale(scale)

    def release(self) -> None:
        for binding in self.bindings:
            binding.release()
