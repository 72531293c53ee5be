"""A tag's value as text: state text or formatted number, with units. A value the user at the
station may change looks it (``writable`` property: a quiet underline from the theme) and a
click on it opens its entry: a setpoint field for a number, one button per state otherwise."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QEnterEvent, QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from hmi.model.screens.schema import SetpointSpec, ValueSpec
from hmi.model.tags import DataType, TagConfig
from hmi.model.value import TagValue
from hmi.widgets.base import (
    NO_VALUE,
    BoundHost,
    TagBinding,
    expression_bad,
    origin,
    scale_font,
    set_style_property,
)
from hmi.widgets.context import WidgetContext
from hmi.widgets.dialog import CommandButton, OperatorDialog
from hmi.widgets.label import ALIGN
from hmi.widgets.setpoint import SetpointWidget
from hmi.widgets.theme import chrome
from hmi.widgets.theme.dress import Dress, Line, frame_indent, put_on, quality_line

DESIGN_FONT_PX = 16.0
ENTRY_WIDTH_PX = 320
MARGINS = (6, 2, 18, 2)
"""Inside its 2 px outline: 4 px before the text, 16 px after it (the quality badge's corner,
so the badge never covers digits)."""


class ValueWidget(BoundHost, QLabel):
    """Keeps the last value visible when the quality turns Bad or Uncertain; the theme marks
    it (outline, greyed text: ``redress``) and the badge says which."""

    def __init__(self, spec: ValueSpec, ctx: WidgetContext, parent: QWidget | None = None) -> None:
        super().__init__(NO_VALUE, parent)
        self.spec = spec
        self.ctx = ctx
        self.entry: ValueEntry | None = None
        self.setAlignment(ALIGN[spec.align])
        self.setProperty("writable", "false")
        self._shown_writable: bool | None = None
        self._hover = False
        self._indent = -1  # QLabel's own: none set
        if chrome.colors() is not None:
            self.setContentsMargins(*MARGINS)
        self.binding = TagBinding(self, ctx, spec.tag, self._on_value, note=spec.tooltip)
        config = self.binding.config
        self._may_write = config is not None and config.writable
        if self._may_write:
            self.binding.watch_access(self._update_writable)
        self.binding.bind()
        self.apply_scale(1.0)
        self.binding.dress_with(self.redress)

    @property
    def writable(self) -> bool:
        return self.property("writable") == "true"

    def _update_writable(self) -> None:
        writable = self.binding.writable_now
        if writable != self._shown_writable:  # not set again (nor read back) at every value
            self._shown_writable = writable
            if set_style_property(self, "writable", "true" if writable else "false"):
                self.redress()
            self.setCursor(
                Qt.CursorShape.PointingHandCursor if writable else Qt.CursorShape.ArrowCursor
            )
        if not writable and self.entry is not None:
            self.entry.close()

    def _on_value(self, value: TagValue) -> None:
        self.setText(self.binding.display(value.value, units=self.spec.units, fmt=self.spec.format))
        if self._may_write:
            self._update_writable()

    def redress(self) -> None:
        """Fill, text and line for the quality, ``writable`` and the mouse over it."""
        colors = chrome.colors()
        if colors is None or not self.binding.dressing:  # not built yet: dress_with does it
            return
        quality = self.binding.css
        writable = self._shown_writable is True
        line = quality_line(colors, quality, expression_bad(self))
        if line is None and writable:
            line = Line(colors.rgba("writableLine"), 2, bottom_only=not self._hover)
        stale = quality in ("bad", "disconnected")
        put_on(
            self,
            Dress(
                fill=colors.rgba("writableFill" if writable else "valueFill"),
                text=colors.rgba("staleText" if stale else "valueText"),
                line=line,
            ),
        )

    def enterEvent(self, event: QEnterEvent) -> None:
        self._hover = True
        if self._shown_writable:
            self.redress()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._hover = False
        if self._shown_writable:
            self.redress()
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.writable:
            self.open_entry()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def open_entry(self) -> ValueEntry | None:
        """The entry of this value, just below it (one at a time)."""
        if not self.writable or self.binding.config is None:
            return None
        if self.entry is None:
            self.entry = ValueEntry(self.spec, self.binding.config, self.ctx, self)
            self.entry.finished.connect(self._entry_closed)
            self.entry.move(self.mapToGlobal(QPoint(0, self.height())))
        self.entry.show()
        self.entry.raise_()
        self.entry.activateWindow()
        return self.entry

    def _entry_closed(self) -> None:
        if self.entry is not None:
            self.entry.release()
            self.entry.deleteLater()
            self.entry = None

    def apply_scale(self, scale: float) -> None:
        scale_font(self, self.spec.font_size or DESIGN_FONT_PX, scale)
        if chrome.colors() is not None:
            indent = frame_indent(self)
            if indent != self._indent:  # set once, not again at the canvas's own scale
                self._indent = indent
                self.setIndent(indent)
        self.binding.apply_scale(scale)

    def release(self) -> None:
        if self.entry is not None:
            self.entry.close()
        self.binding.release()


class ValueEntry(OperatorDialog):
    """The entry a writable value opens: for a number, a setpoint field (Enter or Set sends
    that value and closes it); for a state tag, one button per state. Every write goes
    through the command service with the value's origin (``<screen>/<value id>``); Escape or
    a click elsewhere closes it."""

    def __init__(
        self, spec: ValueSpec, config: TagConfig, ctx: WidgetContext, parent: QWidget
    ) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("ValueEntry")
        self.setWindowTitle(f"Change {config.name}")
        self.spec = spec
        self.ctx = ctx
        self.setpoint: SetpointWidget | None = None
        self.state_buttons: list[CommandButton] = []
        column = QVBoxLayout(self)
        heading = QLabel(f"Change {config.description or config.name}", self)
        heading.setObjectName("ValueEntryHeading")
        heading.setWordWrap(True)
        column.addWidget(heading)
        if config.datatype in (DataType.BOOL, DataType.STR) or config.states:
            row = QHBoxLayout()
            choices = config.states or {0: config.display(False), 1: config.display(True)}
            for raw, text in choices.items():
                value: object = bool(raw) if config.datatype is DataType.BOOL else raw
                button = CommandButton(text, self)
                button.setObjectName("ValueEntryState")
                button.clicked.connect(lambda _=False, v=value: self._write(v))
                self.state_buttons.append(button)
                row.addWidget(button)
            column.addLayout(row)
        else:
            setpoint_spec = SetpointSpec(
                type="setpoint", id=spec.id, tag=spec.tag, rect=(0, 0, ENTRY_WIDTH_PX, 44),
                format=spec.format,
            )  # fmt: skip
            self.setpoint = SetpointWidget(setpoint_spec, ctx, self)
            self.setpoint.setMinimumSize(ENTRY_WIDTH_PX, 44)
            self.setpoint.field.returnPressed.connect(self._after_submit)
            self.setpoint.set_button.clicked.connect(self._after_submit)
            column.addWidget(self.setpoint)
            self.setpoint.field.setFocus()
            self.setpoint.field.selectAll()  # typing replaces the shown value

    def _write(self, value: object) -> None:
        self.ctx.bridge.submit_write(self.spec.tag, value, origin=origin(self.ctx, self.spec.id))
        self.accept()

    def _after_submit(self) -> None:
        """Close once the entry went out (a refused entry stays, marked, with its reason)."""
        if self.setpoint is not None and self.setpoint.last_write is not None:
            self.accept()

    def release(self) -> None:
        if self.setpoint is not None:
            self.setpoint.release()
