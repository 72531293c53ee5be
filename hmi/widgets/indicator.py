"""A multi-state indicator: each value of the tag selects a text and a look."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from hmi.model.screens.schema import IndicatorSpec, Look, StateLook
from hmi.model.value import TagValue
from hmi.widgets.base import (
    NO_VALUE,
    BoundHost,
    TagBinding,
    expression_bad,
    match_state,
    scale_font,
    set_style_property,
)
from hmi.widgets.context import WidgetContext
from hmi.widgets.theme import chrome
from hmi.widgets.theme.dress import Dress, dress_for, put_on, quality_line

DESIGN_FONT_PX = 14.0
MARGINS = (6, 2, 6, 2)  # inside its 2 px outline, 4 px each side of the text


class IndicatorWidget(BoundHost, QLabel):
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
        self._look: str = Look.NORMAL.value
        if chrome.colors() is not None:
            self.setContentsMargins(*MARGINS)
        self.binding = TagBinding(self, ctx, spec.tag, self._on_value, note=spec.tooltip)
        self.binding.bind()
        self.apply_scale(1.0)
        self.binding.dress_with(self.redress)

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
        if set_style_property(self, "look", row.look.value):
            self._look = row.look.value  # what redress reads: asking Qt is 1.3 us
            self.redress()

    def redress(self) -> None:
        """The look's fill and text, outlined for the quality."""
        colors = chrome.colors()
        if colors is None or not self.binding.dressing:  # not built yet: dress_with does it
            return
        look, css, expression = self._look, self.binding.css, expression_bad(self)

        def make() -> Dress:
            name = look.title()
            fill = colors[f"indicator{name}Fill"]
            return Dress(
                fill=fill.rgba() if fill.alpha() else None,
                text=colors.rgba(f"indicator{name}Text"),
                line=quality_line(colors, css, expression),
            )

        put_on(self, dress_for(colors, (IndicatorWidget, look, css, expression), make))

    def apply_scale(self, scale: float) -> None:
        scale_font(self, self.spec.font_size or DESIGN_FONT_PX, scale, bold=True)
        self.binding.apply_scale(scale)

    def release(self) -> None:
        self.binding.release()
