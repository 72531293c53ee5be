"""Enter submits the entry it is typed in, and nothing else.

Qt makes every ``QPushButton`` in a ``QDialog`` an *auto-default* button: Enter pressed in a
line edit of the dialog presses the first of them (on the LIC101 faceplate that was "Auto",
so a setpoint typed in MAN also switched the loop to AUTO). Two classes close that door for
every dialog and button of the station, not one at a time:

* ``CommandButton``: every button that acts (on the plant, an alarm, a record). It is never a
  default or auto-default button, refuses to become one, and ignores Enter even when it has
  the focus: a click or Space presses it, nothing else does.
* ``OperatorDialog``: the base of every dialog and popup. Enter presses only the button the
  dialog names as ``enter_button`` (a form whose one purpose is that button: log in, shelve
  with a reason); every other button in it is made neither default nor auto-default when it
  is shown. Without an ``enter_button``, Enter does nothing beyond what the focused entry does
  itself (a setpoint entry sends its own value).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import QDialog, QPushButton, QWidget

from hmi.widgets.theme import chrome

__all__ = ["CommandButton", "OperatorDialog", "is_enter", "quiet_buttons"]

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def is_enter(event: QKeyEvent) -> bool:
    """Return or the keypad's Enter, without Ctrl/Alt/Shift/Meta."""
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return event.key() in ENTER_KEYS and modifiers == Qt.KeyboardModifier.NoModifier


class CommandButton(QPushButton):
    """A button that acts. Never the button Enter presses, in any dialog or window."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        QPushButton.setAutoDefault(self, False)
        QPushButton.setDefault(self, False)

    def setAutoDefault(self, on: bool) -> None:
        if on:
            raise ValueError(
                f"{self.text()!r} acts on the plant and may not be an auto-default button "
                "(Enter would press it)"
            )
        QPushButton.setAutoDefault(self, False)

    def setDefault(self, on: bool) -> None:
        if on:
            raise ValueError(
                f"{self.text()!r} acts on the plant and may not be a default button "
                "(Enter would press it)"
            )
        QPushButton.setDefault(self, False)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in ENTER_KEYS:
            event.ignore()  # to the dialog, which presses no command
            return
        super().keyPressEvent(event)


def quiet_buttons(root: QWidget, keep: QPushButton | None = None) -> None:
    """Make every push button under ``root`` neither default nor auto-default, except
    ``keep`` (the dialog's ``enter_button``), which becomes the default."""
    for button in root.findChildren(QPushButton):
        if button is keep:
            continue
        QPushButton.setAutoDefault(button, False)
        QPushButton.setDefault(button, False)
    if keep is not None and not isinstance(keep, CommandButton):
        QPushButton.setAutoDefault(keep, False)
        QPushButton.setDefault(keep, True)


class OperatorDialog(QDialog):
    """Every dialog of the station. ``enter_button`` (None: none) is what Enter presses;
    it may not be a ``CommandButton``. Subclasses may refine ``on_enter``."""

    enter_button: QPushButton | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chrome.wear_sheet(self)  # a window of the station: the theme's sheet is on it

    def set_enter_button(self, button: QPushButton | None) -> None:
        if isinstance(button, CommandButton):
            raise ValueError(f"{button.text()!r} acts and may not be pressed by Enter")
        self.enter_button = button
        quiet_buttons(self, button)

    def quiet_buttons(self) -> None:
        """After buttons were added (a rebuilt faceplate): none of them takes Enter."""
        quiet_buttons(self, self.enter_button)

    def showEvent(self, event: QShowEvent) -> None:
        self.quiet_buttons()
        super().showEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if is_enter(event):
            event.accept()
            self.on_enter()
            return
        super().keyPressEvent(event)

    def on_enter(self) -> None:
        """Enter reached the dialog (the focused entry, if any, has had it first)."""
        button = self.enter_button
        if button is not None and button.isVisible() and button.isEnabled():
            button.click()
