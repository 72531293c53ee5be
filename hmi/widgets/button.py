"""A push button: write a value, hold-to-run, toggle, go to a screen, or open a faceplate.

Painted by Qt alone: the button is flat, its background the theme's picture of its state
(``hmi.widgets.theme.dress``: fill and 2 px line for normal, hover, disabled, active, focus,
quality), its text the style's in the theme's colour. Held down, the style draws its pressed
panel over it in the theme's pressed colour, which every dress carries as its button colour:
a press changes no dress, so a button needs no Python on press and release (nor the two
connections that would cost every button at every build). Python runs when the state
changes, never while painting."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import QEvent, Slot
from PySide6.QtGui import QEnterEvent, QFocusEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import QWidget

from hmi.model.screens.schema import (
    ButtonSpec,
    FaceplateAction,
    Look,
    MomentaryAction,
    NavigateAction,
    SetAction,
    ToggleAction,
)
from hmi.model.value import TagValue
from hmi.runtime.commands import CommandResult
from hmi.widgets.base import (
    BoundHost,
    TagBinding,
    expression_bad,
    origin,
    resize_due,
    scale_font,
    set_style_property,
)
from hmi.widgets.context import WidgetContext
from hmi.widgets.dialog import CommandButton
from hmi.widgets.theme import chrome
from hmi.widgets.theme.dress import Dress, Line, put_on, quality_line

log = logging.getLogger(__name__)

DESIGN_FONT_PX = 14.0


class ButtonWidget(BoundHost, CommandButton):
    """Writes go only through ``ctx.bridge.submit_write`` (the command service decides the
    rest). A write button is disabled until its tag has a value that is not Bad. A momentary
    button writes ``release`` when let go, and also if it is disabled or torn down while held.
    A toggle button looks ``active`` while its tag is true. Enter never presses it
    (``CommandButton``): a click or Space does."""

    def __init__(self, spec: ButtonSpec, ctx: WidgetContext, parent: QWidget | None = None) -> None:
        super().__init__(spec.text, parent)
        self.spec = spec
        self.ctx = ctx
        self.held = False
        self.last_write: asyncio.Task[CommandResult] | None = None
        self.binding: TagBinding | None = None
        self._dressed = chrome.colors() is not None
        self._hover = False
        self._built = False  # no dressing before the end of __init__: once, then on changes
        if self._dressed:
            self.setFlat(True)  # no bevel of the style's: the background is the look
            self.setBackgroundRole(QPalette.ColorRole.Window)
        action = spec.action
        if spec.tooltip:
            self.setToolTip(spec.tooltip)
        if isinstance(action, MomentaryAction):
            self.pressed.connect(self._on_pressed)
            self.released.connect(self._on_released)
        else:
            self.clicked.connect(self._on_clicked)
        if isinstance(action, (SetAction, MomentaryAction, ToggleAction)):
            self.setEnabled(False)
            self.binding = TagBinding(self, ctx, action.tag, self._on_value, note=spec.tooltip)
            self.binding.watch_access(self._update_enabled)
            self.binding.bind()
        self.apply_scale(1.0)
        self._built = True
        if self.binding is not None:  # dressed on quality changes; on resizes by resizeEvent
            self.binding.dress_with(self.redress, on_resize=False)
        elif not resize_due(self):  # else its resizeEvent dresses it, once its size is known
            self.redress()

    def redress(self) -> None:
        """The look of the button's state: fill, text and line."""
        if not self._built or not self._dressed:
            return
        colors = chrome.colors()
        if colors is None:
            return
        enabled = self.isEnabled()
        if self.property("look") == Look.ACTIVE.value:
            fill, text = "buttonActiveFill", "buttonActiveText"
        elif not enabled:
            fill, text = "buttonDisabledFill", "buttonDisabledText"
        else:
            fill = "buttonHover" if self._hover else "buttonFill"
            text = "buttonText"
        quality = "good" if self.binding is None else self.binding.css
        line = quality_line(colors, quality, expression_bad(self))
        if line is None:
            focus = self.hasFocus() and enabled
            color = (
                "buttonFocusLine" if focus else "buttonLine" if enabled else "buttonDisabledLine"
            )
            line = Line(colors.rgba(color), 2)
        put_on(
            self,
            Dress(fill=colors.rgba(fill), text=colors.rgba(text), line=line,
                  pressed=colors.rgba("buttonPressed")),
        )  # fmt: skip

    def setEnabled(self, enabled: bool) -> None:
        changed = enabled != self.isEnabled()
        super().setEnabled(enabled)
        if changed:
            self.redress()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._dressed:
            self.redress()

    def enterEvent(self, event: QEnterEvent) -> None:
        self._hover = True
        self.redress()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._hover = False
        self.redress()
        super().leaveEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.redress()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.redress()

    @property
    def writes(self) -> bool:
        return self.binding is not None

    def _update_enabled(self) -> None:
        """Enabled only while the tag's value is usable and the user at the station may
        write it; the tooltip says which role it needs (``TagBinding.tooltip_text``)."""
        assert self.binding is not None
        usable = self.binding.usable and self.binding.refusal is None
        if not usable and self.held:
            self._on_released()
        self.setEnabled(usable)

    def _on_value(self, value: TagValue) -> None:
        assert self.binding is not None
        self._update_enabled()
        usable = self.binding.usable
        if isinstance(self.spec.action, ToggleAction):
            active = usable and bool(value.value)
            if set_style_property(self, "look", (Look.ACTIVE if active else Look.NORMAL).value):
                self.redress()

    def _write(self, value: Any) -> None:
        action = self.spec.action
        assert isinstance(action, (SetAction, MomentaryAction, ToggleAction))
        self.last_write = self.ctx.bridge.submit_write(
            action.tag, value, origin=origin(self.ctx, self.spec.id)
        )

    @Slot()
    def _on_clicked(self) -> None:
        action = self.spec.action
        if isinstance(action, NavigateAction):
            self.ctx.navigate(action.screen)
        elif isinstance(action, FaceplateAction):
            self.ctx.open_faceplate(action.template, dict(action.params))
        elif self.binding is None or not self.binding.usable or self.binding.refusal:
            return
        elif isinstance(action, SetAction):
            self._write(action.value)
        elif isinstance(action, ToggleAction):
            self._write(not bool(self.binding.value.value))

    @Slot()
    def _on_pressed(self) -> None:
        action = self.spec.action
        if isinstance(action, MomentaryAction) and self.binding and self.isEnabled():
            self.held = True
            self._write(action.value)

    @Slot()
    def _on_released(self) -> None:
        action = self.spec.action
        if isinstance(action, MomentaryAction) and self.held:
            self.held = False
            self._write(action.release)

    def apply_scale(self, scale: float) -> None:
        scale_font(self, self.spec.font_size or DESIGN_FONT_PX, scale)
        if self.binding is not None:
            self.binding.apply_scale(scale)

    def release(self) -> None:
        if self.held:
            self._on_released()
        if self.binding is not None:
            self.binding.release()
