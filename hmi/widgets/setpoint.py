"""A setpoint entry: shows the tag's value; the operator types a new one and presses Enter
or Set. The entry is checked against the tag's type and write limits before anything is sent."""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolTip, QWidget

from hmi.model.errors import WriteDenied
from hmi.model.screens.schema import SetpointSpec
from hmi.model.value import TagValue
from hmi.runtime.commands import CommandResult
from hmi.widgets.base import NO_VALUE, BoundHost, TagBinding, origin, scale_font, set_style_property
from hmi.widgets.context import WidgetContext
from hmi.widgets.dialog import CommandButton
from hmi.widgets.theme import chrome

log = logging.getLogger(__name__)

DESIGN_FONT_PX = 16.0


class SetpointWidget(BoundHost, QWidget):
    """``entry`` on the field is ``idle`` (showing the live value), ``editing`` (the operator's
    text, no longer overwritten by updates) or ``refused`` (red border, reason in the tooltip
    and in ``refusal``; nothing was sent). Escape goes back to the live value. Disabled while
    the tag is Bad or not yet received, and for a read-only tag."""

    def __init__(
        self, spec: SetpointSpec, ctx: WidgetContext, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.spec = spec
        self.ctx = ctx
        self.refusal = ""
        self.last_write: asyncio.Task[CommandResult] | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        chrome.wear_own_sheet(self, "SetpointWidget")  # its field's looks: a sheet of its own
        self.field = QLineEdit(NO_VALUE, self)
        self.field.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.field.setProperty("entry", "idle")
        self.units = QLabel(self)
        self.set_button = CommandButton("Set", self)
        self.set_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QHBoxLayout(self)
        layout.setSpacing(4)
        layout.addWidget(self.field, 1)
        layout.addWidget(self.units)
        layout.addWidget(self.set_button)
        self.field.textEdited.connect(self._on_edited)
        self.field.returnPressed.connect(self.submit)
        self.set_button.clicked.connect(self.submit)
        self.field.installEventFilter(self)
        self.setEnabled(False)
        self.binding = TagBinding(self, ctx, spec.tag, self._on_value, note=spec.tooltip)
        self.binding.watch_access(self._update_enabled)
        self.binding.bind()
        config = self.binding.config
        self.units.setText(config.units if config else "")
        self.units.setVisible(bool(config and config.units))
        self.field.setPlaceholderText(self.limits_text())
        self.field.setToolTip(self._field_hint())
        self.apply_scale(1.0)

    @property
    def entry(self) -> str:
        return str(self.field.property("entry"))

    @property
    def writable(self) -> bool:
        config = self.binding.config
        return config is not None and config.writable

    def limits_text(self) -> str:
        """The write limits as the operator reads them, e.g. ``0 – 100 m³``."""
        config = self.binding.config
        if config is None or config.write is None:
            return "read-only"
        low, high = config.write.min, config.write.max
        units = f" {config.units}" if config.units else ""
        if low is not None and high is not None:
            return f"{low:g} – {high:g}{units}"
        if low is not None:
            return f"≥ {low:g}{units}"
        if high is not None:
            return f"≤ {high:g}{units}"
        return "no limits"

    def _field_hint(self) -> str:
        if not self.writable:
            return f"{self.spec.tag} is read-only"
        if self.binding.refusal:
            return f"Not available: {self.binding.refusal}"
        return f"Write limits: {self.limits_text()}\nEnter or Set to send, Esc to cancel"

    def _show_live(self) -> None:
        self.field.setText(self.binding.display(units=False, fmt=self.spec.format))
        self.field.setCursorPosition(0)

    def _set_entry(self, entry: str) -> None:
        set_style_property(self.field, "entry", entry)

    def _update_enabled(self) -> None:
        """Enabled while the tag is writable, its value usable and the user at the station
        may write it; the field's tooltip says why not."""
        enabled = self.binding.writable_now
        if not enabled and self.entry != "idle":
            self.revert()
        self.setEnabled(enabled)
        if self.entry != "refused":
            self.field.setToolTip(self._field_hint())

    def _on_value(self, value: TagValue) -> None:
        self._update_enabled()
        if self.entry == "idle":
            self._show_live()

    def _on_edited(self, _text: str) -> None:
        if self.entry == "refused":
            self.refusal = ""
            self.field.setToolTip(self._field_hint())
        self._set_entry("editing")

    def submit(self) -> bool:
        """Check the operator's entry and send it; returns whether it was sent."""
        if self.entry == "idle" or not self.isEnabled():
            return False
        assert self.binding.config is not None
        try:
            value = self.binding.config.check_write(self.field.text().strip())
        except WriteDenied as exc:
            self.refuse(str(exc))
            return False
        self.last_write = self.ctx.bridge.submit_write(
            self.spec.tag, value, origin=origin(self.ctx, self.spec.id)
        )
        self.revert()
        return True

    def refuse(self, reason: str) -> None:
        """Keep the entry, mark it, and say why; nothing is sent."""
        self.refusal = reason
        self._set_entry("refused")
        self.field.setToolTip(reason)
        if self.isVisible():
            QToolTip.showText(self.field.mapToGlobal(QPoint(0, self.field.height())), reason)

    def revert(self) -> None:
        """Drop the operator's entry and show the live value again."""
        self.refusal = ""
        self._set_entry("idle")
        self.field.setToolTip(self._field_hint())
        self._show_live()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.field
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self.revert()
            return True
        return super().eventFilter(watched, event)

    def apply_scale(self, scale: float) -> None:
        scale_font(self.field, self.spec.font_size or DESIGN_FONT_PX, scale)
        scale_font(self.units, (self.spec.font_size or DESIGN_FONT_PX) * 0.85, scale)
        scale_font(self.set_button, (self.spec.font_size or DESIGN_FONT_PX) * 0.85, scale)
        self.binding.apply_scale(scale)
        inset = max(2, round(3 * scale))
        badge = self.binding.badge.width()
        self.layout().setContentsMargins(inset, inset, inset + badge, inset)

    def release(self) -> None:
        self.binding.release()
