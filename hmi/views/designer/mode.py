"""Design mode on the station's window: the "Design" action in the header (Ctrl+E), open to
users holding ``edit_config`` (engineers, admins) and disabled with the reason for others; the
design tools; and the shield that keeps every input away from the screen's widgets, so that
nothing is written to a device while designing. Bound widgets keep their live values."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QHBoxLayout, QToolButton, QWidget
from shiboken6 import isValid

from hmi.model.design.edits import DesignDocument
from hmi.model.screens.loader import Project
from hmi.model.screens.schema import ScreenFile
from hmi.model.security import Permission
from hmi.runtime.audit import AuditRecorder
from hmi.runtime.session import PermissionGuard, Session, SessionService
from hmi.views.designer.editor import ScreenEditor
from hmi.views.designer.overlay import DesignOverlay
from hmi.views.designer.toolbar import DesignTools
from hmi.views.main_window import MainWindow
from hmi.views.screen_canvas import ScreenCanvas

if TYPE_CHECKING:  # the save, the panels and Browse server (ruamel.yaml) load on first use
    from hmi.views.designer.browse_dialog import BrowseDialog
    from hmi.views.designer.panels import DesignPanels
    from hmi.views.designer.saving import DesignSaver

__all__ = ["DESIGN_SHORTCUT", "DesignMode", "InputShield", "open_screen_document"]

log = logging.getLogger(__name__)

DESIGN_SHORTCUT = "Ctrl+E"

_INPUT = frozenset(
    {
        QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick, QEvent.Type.MouseMove, QEvent.Type.Wheel,
        QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride,
        QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd,
        QEvent.Type.ContextMenu,
    }
)  # fmt: skip


class InputShield(QObject):
    """An application event filter: no mouse, key or touch event reaches a widget of the
    canvas being designed (the overlay takes them); focus that lands there goes to the
    overlay. Tooltips still show, with the live value and quality."""

    def __init__(self, mode: DesignMode) -> None:
        super().__init__(mode)  # deleted with it, which takes it off the application
        self._mode = mode

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() not in _INPUT and event.type() != QEvent.Type.FocusIn:
            return False
        overlay = self._mode.overlay
        canvas = self._mode.editor.canvas if self._mode.editor is not None else None
        if overlay is None or canvas is None or not isinstance(watched, QWidget):
            return False
        if not (isValid(overlay) and isValid(canvas)):
            return False
        if watched is overlay or not canvas.isAncestorOf(watched):
            return False
        if event.type() == QEvent.Type.FocusIn:
            QTimer.singleShot(0, overlay.setFocus)
            return False
        return event.type() in _INPUT


class DesignMode(QObject):
    """``open_document(path)`` opens a screen file as a `DesignDocument`. ``login`` opens the
    sign-in dialog (``hmi edit`` asks for an engineer when nobody is signed in)."""

    toggled = Signal(bool)
    problem = Signal(str)

    def __init__(
        self,
        window: MainWindow,
        sessions: SessionService,
        guard: PermissionGuard,
        *,
        open_document: Callable[[Path], DesignDocument] | None = None,
        login: Callable[[], object] | None = None,
        recorder: AuditRecorder | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.sessions = sessions
        self.guard = guard
        self._open_document = open_document or open_screen_document
        self._login = login
        self.editor: ScreenEditor | None = None
        self.overlay: DesignOverlay | None = None
        self.requested = False  # enter as soon as someone who may is signed in
        self._shield = InputShield(self)
        self.action = QAction("Design", window)
        self.action.setObjectName("DesignModeAction")
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence(DESIGN_SHORTCUT))
        self.action.triggered.connect(self._on_triggered)
        window.addAction(self.action)
        self.button = QToolButton(window.header)
        self.button.setObjectName("DesignModeButton")
        self.button.setDefaultAction(self.action)
        row = window.header.layout()
        if isinstance(row, QHBoxLayout):
            row.insertWidget(row.indexOf(window.header.trend_button), self.button)
        self.tools = DesignTools(window, on_done=self.leave)
        self.recorder = recorder
        self._saver: DesignSaver | None = None
        self.panels: DesignPanels | None = None
        self.browse_dialog: BrowseDialog | None = None  # the one open (tests answer it)
        self.tools.grid.valueChanged.connect(self._on_grid)
        sessions.add_listener(self._on_session)
        self._on_session(sessions.current)

    @property
    def saver(self) -> DesignSaver:
        """Ctrl+S and the screen commands (``hmi.views.designer.saving``), made on first use."""
        if self._saver is None:
            from hmi.views.designer.saving import DesignSaver

            window = self.window
            self._saver = DesignSaver(
                lambda: window.project, self.recorder, window,
                say=lambda text, outcome: window.status.show_message(text, outcome=outcome),
            )  # fmt: skip
            self._saver.reload.connect(self._reload)
            self._saver.created.connect(self._on_created)
        return self._saver

    # -- who may -------------------------------------------------------------------------------

    def refusal(self) -> str | None:
        """Why the signed-in user may not design (None: they may)."""
        return self.guard.refusal(Permission.EDIT_CONFIG)

    def _on_session(self, _session: Session | None) -> None:
        if not isValid(self) or not isValid(self.action):
            return  # the window is gone (the station stopping)
        refusal = self.refusal()
        self.action.setEnabled(refusal is None)
        self.action.setToolTip(
            refusal or f"Design mode: edit this screen on live data ({DESIGN_SHORTCUT})"
        )
        if refusal is not None and self.active:
            self.leave()
        elif refusal is None and self.requested and not self.active:
            self.enter()

    def request(self) -> None:
        """``hmi edit``: enter design mode once the window is shown and an engineer or admin
        is signed in (asking for one if nobody is)."""
        self.requested = True
        if not self.window.isVisible():
            self.window.installEventFilter(self)  # again on its Show event
            return
        if self.refusal() is None:
            self.enter()
            return
        self.window.status.show_message("design mode: sign in as an engineer or administrator")
        if self._login is not None:
            self._login()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Show:
            self.window.removeEventFilter(self)
            if self.requested:
                QTimer.singleShot(0, self.request)
        return False

    # -- in and out ----------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.editor is not None

    def _on_triggered(self, checked: bool) -> None:
        if checked:
            self.enter()
        else:
            self.leave()

    def enter(self) -> bool:
        """Design the current screen; False (and why, in the status bar) if refused."""
        self.requested = False
        refusal = self.refusal()
        window = self.window
        if self.active:
            return True
        if refusal is not None or window.canvas is None:
            self.action.setChecked(False)
            window.status.show_message(f"design mode: {refusal}", outcome="failed")
            return False
        screen_id = window.current_screen_id
        path = Path(window.project.screen_paths[screen_id])
        try:
            document = self._open_document(path)
        except Exception as exc:
            log.exception("cannot open %s for design", path)
            self.action.setChecked(False)
            window.status.show_message(f"design mode: {exc}", outcome="failed")
            return False
        window.designing = True
        window.faceplates.close_all()  # a faceplate's buttons write
        window.nav.setEnabled(False)
        row = window.nav.height() or window.nav.sizeHint().height()
        self.tools.bar.setFixedHeight(row)  # the navigation bar's row, so the scale is kept
        window.nav.setVisible(False)
        window.setProperty("designing", True)
        self.editor = ScreenEditor(document, window.canvas, rebuild=self._rebuild, parent=self)
        self.editor.snap = type(self.editor.snap)(grid=self.tools.grid.value())
        self.editor.problem.connect(self._on_problem)
        self._attach()
        editor = self.editor
        self._dock()
        self.tools.bind(editor.stack, {
            "save": lambda: self._save(editor),
            "new_screen": self.saver.new_screen,
            "rename_screen": lambda: self._change_screen(editor, delete=False),
            "delete_screen": lambda: self._change_screen(editor, delete=True),
            "cut": editor.cut, "copy": editor.copy, "paste": editor.paste,
            "duplicate": editor.duplicate, "delete": editor.delete,
            "front": lambda: editor.restack(front=True),
            "back": lambda: editor.restack(front=False),
            "align_left": lambda: editor.align("left"),
            "align_hcenter": lambda: editor.align("hcenter"),
            "align_right": lambda: editor.align("right"),
            "align_top": lambda: editor.align("top"),
            "align_vcenter": lambda: editor.align("vcenter"),
            "align_bottom": lambda: editor.align("bottom"),
            "distribute_x": lambda: editor.distribute("x"),
            "distribute_y": lambda: editor.distribute("y"),
        })  # fmt: skip
        self.tools.show(True)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._shield)
        self.action.setChecked(True)
        window.status.show_message(f"design mode: {path.name} (nothing is written to devices)")
        self.toggled.emit(True)
        return True

    def leave(self) -> None:
        """Back to the operator view of the project's screen as it is on disk."""
        if not self.active:
            self.action.setChecked(False)
            return
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._shield)
        self.tools.bind(None, {})
        self.tools.show(False)
        self._undock()
        if self.overlay is not None:
            self.overlay.deleteLater()
        self.overlay = None
        editor, self.editor = self.editor, None
        if editor is not None:
            editor.deleteLater()
        window = self.window
        window.designing = False
        window.nav.setEnabled(True)
        window.nav.setVisible(True)
        window.setProperty("designing", False)
        try:
            window.show_screen_file()
        except Exception as exc:
            log.exception("the screen could not be rebuilt after design mode")
            window.status.show_message(f"screen: {exc}", outcome="failed")
        self.action.setChecked(False)
        self.toggled.emit(False)

    # -- the panels and Browse server ----------------------------------------------------------

    def _dock(self) -> None:
        from hmi.views.designer.panels import attach, dock_panels

        assert self.editor is not None
        window = self.window
        self.panels = dock_panels(
            window, window.project, window.bridge, shown=self.tools.panels.isChecked()
        )
        attach(self.panels, self.editor)
        self.tools.panels.toggled.connect(self.panels.set_expanded)
        self.panels.expanded_changed.connect(self.tools.panels.setChecked)
        self.panels.tag_picker.browse_requested.connect(self.browse_server)

    def _undock(self) -> None:
        if self.panels is not None:
            self.tools.panels.toggled.disconnect(self.panels.set_expanded)
            self.window.set_side_panel(None)
        self.panels = None

    def browse_server(self) -> BrowseDialog:
        """The tag picker's Browse server: tags added go to the broker, the window's project
        and new panels (the tag picker shows them with their live values)."""
        from hmi.views.designer.browse_dialog import BrowseDialog

        dialog = BrowseDialog(self.window.project, self.recorder, self.window)
        dialog.added.connect(self._on_tags_added)
        self.browse_dialog = dialog
        dialog.open()
        return dialog

    def _on_tags_added(self, project: Project, names: list[str]) -> None:
        window = self.window
        window.bridge.broker.add_tags(project.tags)
        if window.live_reload is not None:
            window.live_reload.tags_taken_on(project)
        window.adopt(project)
        if self.active:
            tab = self.panels.currentIndex() if self.panels is not None else 0
            self._undock()
            self._dock()
            assert self.panels is not None
            self.panels.setCurrentIndex(tab)
            self.panels.tag_picker.query.setText(names[0] if len(names) == 1 else "")
        window.status.show_message(f"design: tags added to project.yaml: {', '.join(names)}")

    def _save(self, editor: ScreenEditor) -> None:
        from hmi.model.design.document import ScreenDocument

        document = editor.document
        if not isinstance(document, ScreenDocument):
            self._on_problem("this document cannot be saved from the designer")
            return
        self.saver.save(document)

    def _change_screen(self, editor: ScreenEditor, *, delete: bool) -> None:
        from hmi.model.design.document import ScreenDocument

        document = editor.document
        if isinstance(document, ScreenDocument):
            self.saver.change_screen(document, self.window.current_screen_id, delete=delete)

    def _on_created(self, project: object, screen_id: str) -> None:
        """A new screen was written: the window takes the project as it is now, shows the new
        screen and designs it."""
        self.leave()
        self.window.adopt(project)  # type: ignore[arg-type]
        if self.window.navigate(screen_id):
            self.enter()

    def _reload(self) -> None:
        """The file changed on disk: drop the edits, design the file as it is now."""
        self.leave()
        self.enter()

    # -- the canvas ----------------------------------------------------------------------------

    def _attach(self) -> None:
        assert self.editor is not None
        if self.overlay is not None:
            self.overlay.deleteLater()
        self.overlay = DesignOverlay(self.editor)
        self.overlay.setFocus()

    def _rebuild(self, document: DesignDocument) -> ScreenCanvas | None:
        """A new canvas for the document as edited (widgets added, removed or restacked)."""
        window = self.window
        header = window.project.screens[window.current_screen_id].screen
        widgets = [document.widget((i,)) for i in range(document.children())]
        try:
            screen = ScreenFile.model_validate({"screen": header, "widgets": widgets})
            canvas = window.show_screen_file(screen)
        except (ValidationError, Exception) as exc:
            log.warning("the edited screen cannot be shown: %s", exc)
            self._on_problem(f"the edited screen cannot be shown: {exc}")
            return None
        if self.editor is not None:
            self.editor.canvas = canvas
            self._attach()
        return canvas

    def _on_problem(self, text: str) -> None:
        self.window.status.show_message(f"design: {text}", outcome="failed")
        self.problem.emit(text)

    def _on_grid(self, value: int) -> None:
        if self.editor is not None:
            self.editor.snap = type(self.editor.snap)(grid=value)
        if self.overlay is not None:
            self.overlay.update()  # the grid drawn over the whole sheet


def open_screen_document(path: Path) -> DesignDocument:
    """The screen file as a round-trip document (``hmi.model.design.document``)."""
    from hmi.model.design.document import ScreenDocument

    return ScreenDocument.open(path)
