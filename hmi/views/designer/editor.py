"""One screen being edited: its document, the canvas that shows it, the selection, the undo
stack and the clipboard. The overlay turns the mouse and keys into calls here; every gesture
reaches the document as one edit, through the undo stack."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from hmi.model.design.edits import Batch, DesignDocument, Edit, SetFields, WidgetPath
from hmi.model.design.geometry import (
    Alignment,
    Axis,
    Guide,
    Rect,
    Snap,
    align,
    distribute,
)
from hmi.model.design.gestures import (
    absolute_rect,
    absolute_rects,
    delete_edit,
    geometry_edit,
    insert_edit,
    outermost,
    restack_edit,
)
from hmi.model.errors import ConfigError
from hmi.views.designer.undo import EditCommand
from hmi.views.screen_canvas import ScreenCanvas

__all__ = ["PASTE_SHIFT", "ScreenEditor"]

log = logging.getLogger(__name__)

PASTE_SHIFT = 10  # design px: a pasted or duplicated widget sits beside its original


def _flat(edit: Edit) -> list[Edit]:
    return [e for inner in edit.edits for e in _flat(inner)] if isinstance(edit, Batch) else [edit]


class ScreenEditor(QObject):
    """``rebuild(document)`` builds a new canvas from the document (widgets added, removed or
    restacked); moves and resizes only re-place the widgets they touch."""

    changed = Signal()  # the selection, a rect or the guides: the overlay repaints
    problem = Signal(str)  # an edit the document refused

    def __init__(
        self,
        document: DesignDocument,
        canvas: ScreenCanvas,
        *,
        rebuild: Callable[[DesignDocument], ScreenCanvas | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas = canvas
        self._rebuild = rebuild
        self.stack = QUndoStack(self)
        # what a drop from the palette places: (its payload, the design point) -> placed
        self.drop: Callable[[str, tuple[float, float]], bool] | None = None
        self.selection: list[WidgetPath] = []
        self.snap = Snap()
        self.guides: tuple[Guide, ...] = ()
        self.clipboard: list[dict[str, Any]] = []
        self._rects: dict[WidgetPath, Rect] = {}  # absolute, parents before children
        self._shown: dict[WidgetPath, Rect] = {}  # where a drag shows them now
        self._refresh_rects()

    # -- what is where -------------------------------------------------------------------------

    def _refresh_rects(self) -> None:
        self._rects = absolute_rects(self.document)
        self._inner: dict[WidgetPath, list[WidgetPath]] = {}  # a group's widgets, deep
        for path in self._rects:
            for depth in range(1, len(path)):
                self._inner.setdefault(path[:depth], []).append(path)

    def rects(self) -> Mapping[WidgetPath, Rect]:
        """Every widget's absolute rect, in drawing order (parents before children)."""
        return self._rects

    def rect(self, path: WidgetPath) -> Rect:
        return self._rects[path]

    def preview_rect(self, path: WidgetPath) -> Rect:
        """Where a drag in progress shows the widget (else where the document has it)."""
        return self._shown.get(path, self._rects[path])

    def widget_at(self, x: float, y: float) -> WidgetPath | None:
        """The topmost widget under a design point (a group's child before the group)."""
        for path in reversed(self._rects):
            rx, ry, rw, rh = self._rects[path]
            if rx <= x < rx + rw and ry <= y < ry + rh:
                return path
        return None

    def others(self, moving: Sequence[WidgetPath]) -> list[Rect]:
        """The rects a drag of ``moving`` snaps to: not theirs, their groups' or children's."""
        chosen = set(moving)

        def related(path: WidgetPath) -> bool:
            return any(path[: len(p)] == p or p[: len(path)] == path for p in chosen)

        return [rect for path, rect in self._rects.items() if not related(path)]

    def select(self, chosen: Sequence[WidgetPath], *, add: bool = False) -> None:
        """Select ``chosen``; ``add`` (Shift/Ctrl) toggles them in the current selection."""
        if add:
            current = list(self.selection)
            for path in chosen:
                if path in current:
                    current.remove(path)
                else:
                    current.append(path)
            self.selection = current
        else:
            self.selection = [p for p in dict.fromkeys(chosen) if p in self._rects]
        self.changed.emit()

    def set_guides(self, guides: tuple[Guide, ...]) -> None:
        if guides != self.guides:
            self.guides = guides
            self.changed.emit()

    # -- applying edits ------------------------------------------------------------------------

    def push(self, edit: Edit | None) -> bool:
        """Apply ``edit`` as one undo step; False (and ``problem``) if the document refuses."""
        if edit is None:
            return False
        try:
            inverse = self.apply(edit)
        except ConfigError as exc:
            log.warning("edit refused: %s", exc)
            self.problem.emit(str(exc))
            return False
        self.stack.push(EditCommand(self.apply, edit, inverse))
        return True

    def apply(self, edit: Edit) -> Edit:
        """Apply to the document and show it; the inverse (what the undo stack keeps)."""
        inverse = self.document.apply(edit)
        self._shown = {}
        flat = _flat(edit)
        geometry = all(isinstance(e, SetFields) and set(e.values) == {"rect"} for e in flat)
        if geometry and all(e.path in self._rects for e in flat if isinstance(e, SetFields)):
            changed = self._moved({e.path for e in flat if isinstance(e, SetFields)})
            if self.canvas.move_widgets(changed):
                self._rects.update(changed)
                self.changed.emit()
                return inverse
        self._refresh_rects()
        canvas = self._rebuild(self.document)
        if canvas is not None:
            self.canvas = canvas
        self.selection = [p for p in self.selection if p in self._rects]
        self.changed.emit()
        return inverse

    def _moved(self, touched: set[WidgetPath]) -> dict[WidgetPath, Rect]:
        """The new absolute rects of widgets whose rect was set, their groups' widgets with
        them (only those: a drag of 20 widgets does not read the 500 others again)."""
        changed: dict[WidgetPath, Rect] = {}
        for path in sorted(touched, key=len):  # a group before its widgets
            new = absolute_rect(self.document, path)
            old = self._rects[path]
            changed[path] = new
            dx, dy = new[0] - old[0], new[1] - old[1]
            for inner in self._inner.get(path, ()):
                r = self._rects[inner]
                changed[inner] = (r[0] + dx, r[1] + dy, r[2], r[3])
        return changed

    def preview(self, rects: Mapping[WidgetPath, Rect]) -> None:
        """Show the selection at ``rects`` while the mouse drags it (the document is untouched;
        a moved group's children follow it)."""
        shown: dict[WidgetPath, Rect] = {}
        for path, rect in rects.items():
            old = self._rects[path]
            dx, dy = rect[0] - old[0], rect[1] - old[1]
            shown[path] = rect
            for inner in self._inner.get(path, ()):
                r = self._rects[inner]
                shown[inner] = (r[0] + dx, r[1] + dy, r[2], r[3])
        self._shown = shown
        self.canvas.move_widgets(shown)
        self.changed.emit()

    def cancel_preview(self) -> None:
        """Put the widgets a drag moved back where the document has them."""
        self.canvas.move_widgets({p: self._rects[p] for p in self._shown})
        self._shown = {}
        self.set_guides(())
        self.changed.emit()

    # -- gestures ------------------------------------------------------------------------------

    def set_rects(self, rects: Mapping[WidgetPath, Rect], verb: str = "Move") -> bool:
        """The end of a drag, a resize or a nudge: one edit (absolute rects)."""
        self.set_guides(())
        edit = geometry_edit(self.document, rects, verb)
        if edit is None:
            self.cancel_preview()
            return False
        return self.push(edit)

    def nudge(self, dx: float, dy: float) -> bool:
        chosen = outermost(self.selection)
        moved = {p: (r[0] + dx, r[1] + dy, r[2], r[3]) for p in chosen for r in [self._rects[p]]}
        return bool(moved) and self.set_rects(moved)

    def align(self, how: Alignment) -> bool:
        chosen = outermost(self.selection)
        if len(chosen) < 2:
            return False
        lined = align([self._rects[p] for p in chosen], how)
        return self.set_rects(dict(zip(chosen, lined, strict=True)), "Align")

    def distribute(self, axis: Axis) -> bool:
        chosen = outermost(self.selection)
        if len(chosen) < 3:
            return False
        spread = distribute([self._rects[p] for p in chosen], axis)
        return self.set_rects(dict(zip(chosen, spread, strict=True)), "Distribute")

    def delete(self, verb: str = "Delete") -> bool:
        done = self.push(delete_edit(self.selection, verb))
        if done:
            self.select([])
        return done

    def copy(self) -> int:
        """Copy the selection (a selected group with its widgets); how many were copied."""
        chosen = sorted(outermost(self.selection))
        if chosen:
            self.clipboard = [dict(self.document.widget(p)) for p in chosen]
        return len(chosen)

    def cut(self) -> bool:
        return bool(self.copy()) and self.delete("Cut")

    def paste(self, verb: str = "Paste") -> bool:
        """Paste the clipboard on top of the screen, beside where it was copied from."""
        made = insert_edit(self.document, self.clipboard, shift=PASTE_SHIFT, verb=verb)
        if made is None:
            return False
        edit, new = made
        if not self.push(edit):
            return False
        # the next paste lands beside this one
        self.clipboard = [dict(self.document.widget(p)) for p in new]
        self.select(new)
        return True

    def duplicate(self) -> bool:
        kept = self.clipboard
        try:
            return bool(self.copy()) and self.paste("Duplicate")
        finally:
            self.clipboard = kept

    def restack(self, *, front: bool) -> bool:
        made = restack_edit(self.document, self.selection, front=front)
        if made is None:
            return False
        edit, after = made
        if not self.push(edit):
            return False
        self.select(after)
        return True
