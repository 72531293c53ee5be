"""Design mode's tools: one tool bar, in the row the navigation bar leaves while designing (so
the screen keeps the operator view's scale), with an Edit menu button holding the same actions
(undo and redo named after the step they take, "Undo Move 3 widgets") and the **Panels**
toggle (F4) that opens or collapses the palette, inspector and tag picker; that choice is
remembered in the user's data folder (``designer.ini``)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMenu,
    QSpinBox,
    QToolBar,
    QToolButton,
    QWidget,
)
from shiboken6 import isValid

from hmi.model.design.geometry import DEFAULT_GRID
from hmi.model.paths import user_data_dir
from hmi.widgets.theme.chrome import wear_sheet

__all__ = ["DesignTools"]


class DesignTools:
    """Built once per window; ``bind(editor_actions)`` points the actions at the editor of
    the screen being designed. Hidden outside design mode."""

    def __init__(self, window: QMainWindow, *, on_done: Callable[[], None]) -> None:
        self.window = window
        self.bar = QToolBar("Design", window)
        self.bar.setObjectName("DesignToolBar")
        wear_sheet(self.bar)  # before its buttons: a tool bar lays out with the style it had
        self.bar.setMovable(False)
        self.bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.bar)
        self.edit_menu = QMenu("&Edit", window)
        self.edit_menu.setObjectName("DesignEditMenu")
        self.actions: dict[str, QAction] = {}
        self._handlers: dict[str, Callable[[], object]] = {}
        self.undo: QAction | None = None
        self.redo: QAction | None = None
        self._bar_steps: list[QAction] = []  # the tool bar's Undo and Redo
        label = QLabel("Design mode", self.bar)
        label.setObjectName("DesignModeLabel")
        self.bar.addWidget(label)
        self.edit_button = QToolButton(self.bar)
        self.edit_button.setObjectName("DesignEditButton")
        self.edit_button.setMenu(self.edit_menu)
        self.edit_button.setText("Edit")
        self.edit_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.bar.addWidget(self.edit_button)
        self.bar.addSeparator()
        self._action("save", "Save…", QKeySequence.StandardKey.Save)
        self._action("new_screen", "New screen…", None)
        for name, text in (
            ("rename_screen", "Rename screen…"),
            ("delete_screen", "Delete screen…"),
        ):
            self.edit_menu.addAction(self._action(name, text, None, toolbar=False))
        self.edit_menu.addSeparator()
        self._undo_at = self.bar.addSeparator()
        for name, text, keys in (
            ("cut", "Cut", QKeySequence.StandardKey.Cut),
            ("copy", "Copy", QKeySequence.StandardKey.Copy),
            ("paste", "Paste", QKeySequence.StandardKey.Paste),
            ("duplicate", "Duplicate", "Ctrl+D"),
            ("delete", "Delete", QKeySequence.StandardKey.Delete),
        ):
            self._action(name, text, keys)
        self.bar.addSeparator()
        self.edit_menu.addSeparator()
        align = QMenu("Align", window)
        for name, text in (
            ("left", "Left edges"), ("hcenter", "Centres (horizontal)"), ("right", "Right edges"),
            ("top", "Top edges"), ("vcenter", "Middles (vertical)"), ("bottom", "Bottom edges"),
        ):  # fmt: skip
            align.addAction(self._action(f"align_{name}", text, None, toolbar=False))
        align.addSeparator()
        align.addAction(self._action("distribute_x", "Distribute horizontally", None, False))
        align.addAction(self._action("distribute_y", "Distribute vertically", None, False))
        align_action = align.menuAction()
        align_action.setObjectName("DesignAlign")
        self.bar.addAction(align_action)
        self.edit_menu.addMenu(align)
        self._action("front", "To front", "Ctrl+Shift+]").setToolTip("Bring to front")
        self._action("back", "To back", "Ctrl+Shift+[").setToolTip("Send to back")
        self.bar.addSeparator()
        self.bar.addWidget(QLabel(" Grid ", self.bar))
        self.grid = QSpinBox(self.bar)
        self.grid.setObjectName("DesignGrid")
        self.grid.setRange(0, 200)
        self.grid.setSuffix(" px")
        self.grid.setValue(DEFAULT_GRID)
        self.grid.setToolTip("snap to this grid (0: off); hold Alt while dragging to place freely")
        self.grid.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.bar.addWidget(self.grid)
        spacer = QWidget(self.bar)
        spacer.setSizePolicy(spacer.sizePolicy().horizontalPolicy().Expanding,
                             spacer.sizePolicy().verticalPolicy())  # fmt: skip
        self.bar.addWidget(spacer)
        self.panels = QAction("Panels", window)
        self.panels.setObjectName("DesignPanelsToggle")
        self.panels.setCheckable(True)
        self.panels.setShortcut(QKeySequence("F4"))
        self.panels.setToolTip("Open or collapse the palette, properties and tags (F4)")
        self.panels.setChecked(self.settings().value("panels", False, type=bool))
        self.panels.toggled.connect(lambda on: self.settings().setValue("panels", on))
        window.addAction(self.panels)
        self.bar.addAction(self.panels)
        done = self._action("done", "Leave design mode", None)
        done.triggered.disconnect()
        done.triggered.connect(lambda: on_done())
        self.show(False)

    @staticmethod
    def settings() -> QSettings:
        """The designer's remembered choices (the panels shown or not)."""
        return QSettings(str(user_data_dir() / "designer.ini"), QSettings.Format.IniFormat)

    def _action(self, name: str, text: str, keys: object, toolbar: bool = True) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(f"Design_{name}")
        if keys is not None:
            action.setShortcut(QKeySequence(keys))  # type: ignore[call-overload]
        action.triggered.connect(lambda: self._run(name))
        self.window.addAction(action)
        if toolbar:
            self.bar.addAction(action)
            if name != "done":
                self.edit_menu.addAction(action)
        self.actions[name] = action
        return action

    def _run(self, name: str) -> None:
        handler = self._handlers.get(name)
        if handler is not None:
            handler()

    def bind(self, stack: QUndoStack | None, handlers: dict[str, Callable[[], object]]) -> None:
        """Point the tools at a screen's undo stack and editor (None: nothing is designed).
        The Edit menu's Undo and Redo say the step ("Undo Move 3 widgets"); the tool bar's
        say "Undo" and "Redo", the step in their tooltips (a long name would be elided)."""
        self._handlers = handlers
        for old in (self.undo, self.redo, *self._bar_steps):
            if old is not None:
                self.bar.removeAction(old)
                self.edit_menu.removeAction(old)
                self.window.removeAction(old)
                old.deleteLater()
        self.undo = self.redo = None
        self._bar_steps = []
        if stack is None:
            return
        self.undo = stack.createUndoAction(self.window, "Undo")
        self.undo.setObjectName("DesignUndo")
        self.undo.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.redo = stack.createRedoAction(self.window, "Redo")
        self.redo.setObjectName("DesignRedo")
        self.redo.setShortcuts(
            [QKeySequence(QKeySequence.StandardKey.Redo), QKeySequence("Ctrl+Y")]
        )
        for action in (self.undo, self.redo):
            self.window.addAction(action)
        for name, full in (("Undo", self.undo), ("Redo", self.redo)):
            short = QAction(name, self.window)
            short.setObjectName(f"Design{name}Button")
            short.triggered.connect(full.trigger)
            full.changed.connect(lambda s=short, f=full: _follow(s, f))
            short.setEnabled(full.isEnabled())
            short.setToolTip(full.text())
            self._bar_steps.append(short)
        self.bar.insertActions(self._undo_at, self._bar_steps)
        first = self.edit_menu.actions()[0] if self.edit_menu.actions() else None
        self.edit_menu.insertActions(first, [self.undo, self.redo])  # type: ignore[arg-type]

    def show(self, visible: bool) -> None:
        self.bar.setVisible(visible)
        self.panels.setEnabled(visible)
        for action in self.actions.values():
            action.setEnabled(visible)


def _follow(short: QAction, full: QAction) -> None:
    """The tool bar's Undo or Redo as the stack's action is (until either is deleted)."""
    if isValid(short) and isValid(full):
        short.setEnabled(full.isEnabled())
        short.setToolTip(full.text())
