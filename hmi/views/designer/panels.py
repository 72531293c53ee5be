"""The palette, the inspector and the tag picker as tabs of one panel right of the screen, below
the header (whose row needs the window's full width at 1366 px): what design mode shows beside
the canvas (`dock_panels`). Collapsed, only its vertical tabs show, in the margin the operator
view leaves beside a 16:9 screen at 1366x768, so the screen keeps the operator view's scale;
clicking a tab (or the tool bar's **Panels**, F4) opens it, clicking the open tab closes it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QScrollArea, QStackedWidget, QTabWidget
from shiboken6 import isValid

from hmi.model.design.document import ScreenDocument
from hmi.model.errors import ConfigError
from hmi.model.screens.loader import Project
from hmi.runtime.qt_bridge import QtTagBridge
from hmi.views.designer.browse_dialog import opcua_connections
from hmi.views.designer.editor import ScreenEditor
from hmi.views.designer.inspector import Inspector, Palette
from hmi.views.designer.tag_picker import TagPicker
from hmi.views.main_window import MainWindow

__all__ = ["PANELS_WIDTH", "DesignPanels", "attach", "dock_panels"]

PANELS_WIDTH = 300  # px: the inspector's label and field side by side, the tag picker's columns


class DesignPanels(QTabWidget):
    """Palette, Properties and Tags as tabs on the right edge; `expanded_changed` when opened
    or collapsed by a tab click."""

    expanded_changed = Signal(bool)

    def __init__(self, project: Project, bridge: QtTagBridge) -> None:
        super().__init__()
        self.setObjectName("designPanels")
        self.setTabPosition(QTabWidget.TabPosition.East)
        self.setDocumentMode(True)
        self.expanded = True
        self.palette_list = Palette(project)
        self.inspector = Inspector(project)
        self.tag_picker = TagPicker(
            project.tags, bridge, browsable=bool(opcua_connections(project))
        )
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.inspector)
        self.addTab(self.palette_list, "Palette")
        self.addTab(scroll, "Properties")
        self.addTab(self.tag_picker, "Tags")
        self.tabBarClicked.connect(self._on_tab)

    def set_expanded(self, expanded: bool) -> None:
        """Open (the tab's page beside its tabs, `PANELS_WIDTH` wide) or collapse to the tabs."""
        self.expanded = expanded
        stack = self.findChild(QStackedWidget)
        if stack is not None:
            stack.setVisible(expanded)
        self.setFixedWidth(PANELS_WIDTH if expanded else self.tabBar().sizeHint().width())

    def _on_tab(self, index: int) -> None:
        expand = not (self.expanded and index == self.currentIndex())
        if expand != self.expanded:
            self.set_expanded(expand)
            self.expanded_changed.emit(expand)


def dock_panels(
    window: MainWindow, project: Project, bridge: QtTagBridge, *, shown: bool = True
) -> DesignPanels:
    """Put the panels right of the screen in `window` (design mode calls it on entering, and
    takes them away on leaving: `window.set_side_panel(None)`), shown or hidden; `attach`
    wires them to an editor."""
    panels = DesignPanels(project, bridge)
    window.set_side_panel(panels)
    panels.set_expanded(shown)
    return panels


def attach(panels: DesignPanels, editor: ScreenEditor) -> None:
    """Wire the panels to a screen editor: placed and edited go onto its undo stack (one step
    each); the inspector follows the selection."""
    palette, inspector = panels.palette_list, panels.inspector
    document = editor.document
    assert isinstance(document, ScreenDocument)
    palette.count_in = document.children
    palette.centre = _centre(editor)
    palette.placed.connect(editor.push)
    editor.drop = lambda payload, at: editor.push(palette.dropped(payload, at))
    inspector.edited.connect(editor.push)

    def follow(force: bool = False) -> None:
        if not isValid(inspector):  # the dock is gone (design mode left or reloaded)
            return
        shown = tuple(p for p in editor.selection if _exists(document, p))
        if force or shown != inspector.shown_paths:
            inspector.show_selection(document, shown)

    editor.changed.connect(follow)
    editor.stack.indexChanged.connect(lambda _i: follow(force=True))  # undo, redo, any edit
    follow()


def _exists(document: ScreenDocument, path: tuple[int, ...]) -> bool:
    parent, index = path[:-1], path[-1]
    try:
        return index < document.children(parent)
    except ConfigError:  # a parent that is gone or no longer a group
        return False


def _centre(editor: ScreenEditor) -> tuple[float, float]:
    _x, _y, w, h = editor.canvas.stage_rect()
    scale = editor.canvas.scale or 1.0
    return (w / scale / 2, h / scale / 2)
