"""A multi-state indicator: each value of the tag selects a text and a look."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from hmi.model.screens.schema import IndicatorSpec, Look, StateLook
from hmi.model.value import TagValue
from hmi.widgets.base import NO_VALUE, TagBinding, match_state, scale_font, set_style_property
from hmi.widgets.context import WidgetContext

DESIGN_FONT_PX = 14.0


class IndicatorWidget(QLabel):
    """The first row whose value equals the tag's value wins; a value in no row takes the
    ``default`` row, or else shows the value itself with look ``abnormal`` (an unexpected
    state must not pass as a normal one)."""

    def __init__(
        self, spec: IndicatorSpec, ctx: WidgetContext, parent: QWidget | None = None
    ) -> None:
        super().__init__(NO_VALUE, parent)
        self.spec = spec
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setProperty("look", Look.NORMAL.value)
        self.binding = TagBinding(self, ctx, spec.tag, self._on_value, note=spec.tooltip)
        self.binding.bind()
        self.apply_scale(1.0)

    @property
    def look(self) -> Look:
        return Look(self.property("look"))

    def state_for(self, value: object) -> StateLook:
        """The row shown for ``value`` (a made-up abnormal row for an unknown value)."""
        if value is None:
            return StateLook(value="", text=NO_VALUE, look=Look.NORMAL)
        row = match_state(self.spec.states, value)
        if row is None:
            row = self.spec.default
        if row is None:
            return StateLook(value="", text=self.binding.display(value), look=Look.ABNORMAL)
        return row if row.text else row.model_copy(update={"text": self.binding.display(value)})

    def _on_value(self, value: TagValue) -> None:
        row = self.state_for(value.value)
        self.setText(row.text)
        set_style_property(self, "look", row.look.value)

    def apply_scale(self, scale: float) -> None:
        scale_font(self, self.spec.font_size or DESIGN_FONT_PX, scale, bold=True)
        self.binding.apply_scale(scale)

    def release(self) -> None:
        self.binding.release()
