"""The designer's undo stack entries: one `Edit` each, holding the edit that undoes it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from hmi.model.design.edits import Batch, Edit, InsertWidget, MoveWidget, RemoveWidget

__all__ = ["EditCommand", "describe"]


def describe(edit: Edit) -> str:
    """The edit's name in the Edit menu ("Move 3 widgets")."""
    if isinstance(edit, Batch):
        return edit.name
    if isinstance(edit, InsertWidget):
        return "Insert widget"
    if isinstance(edit, RemoveWidget):
        return "Delete widget"
    if isinstance(edit, MoveWidget):
        return "Restack widget"
    return "Change " + ", ".join(sorted(edit.values)) if edit.values else "Change widget"


class EditCommand(QUndoCommand):
    """An edit already applied (``inverse`` is what its ``apply`` returned: an edit the
    document refused never reaches the stack). ``apply(edit)`` applies an edit and returns its
    inverse: ``undo`` applies the inverse kept and keeps what undoes that for ``redo``."""

    def __init__(self, apply: Callable[[Edit], Edit], edit: Edit, inverse: Edit) -> None:
        super().__init__(describe(edit))
        self._apply = apply
        self.edit = edit
        self.inverse: Edit = inverse
        self._applied = True  # QUndoStack.push calls redo() once: the edit is in already

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.inverse = self._apply(self.edit)

    def undo(self) -> None:
        self.edit = self._apply(self.inverse)
