"""The operator's main window: header with the alarm banner, navigation by display hierarchy,
the current screen, and a status bar with user, command results, connections and clock."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QChildEvent, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QSizePolicy, QVBoxLayout, QWidget

from hmi.model.errors import ConfigError
from hmi.model.screens.loader import Project
from hmi.model.screens.schema import ScreenFile
from hmi.runtime.alarms import AlarmEngineService
from hmi.runtime.history import HistorySource
from hmi.runtime.qt_bridge import QtTagBridge
from hmi.storage.alarm_journal import AlarmJournal
from hmi.views.alarms.banner import AlarmBanner
from hmi.views.alarms.history import AlarmHistoryView
from hmi.views.alarms.kpis import AlarmKpiView
from hmi.views.alarms.summary import AlarmSummaryView
from hmi.views.faceplate import FaceplateManager
from hmi.views.header import StationHeader
from hmi.views.navigation import NavBar
from hmi.views.reload import LiveReload, ReloadProblemsView, project_dir
from hmi.views.screen_canvas import ScreenCanvas
from hmi.views.secondary_windows import SecondaryWindows
from hmi.views.station_diagnostics import StationDiagnosticsView
from hmi.views.status_bar import StationStatusBar
from hmi.widgets.alarm_mark import AlarmMarks
from hmi.widgets.context import WidgetContext
from hmi.widgets.theme.chrome import dress_children, dress_new_child, wear_ground

__all__ = ["QUIT_SHORTCUT", "MainWindow"]

log = logging.getLogger(__name__)

QUIT_SHORTCUT = "Ctrl+Alt+Q"
"""The only way out of kiosk mode (the window has no frame and ignores close requests)."""
FULLSCREEN_SHORTCUT = "F11"


class _Central(QWidget):
    """``resized`` moves what floats over it (a filter ran for each event); what is put in it
    wears the theme's sheet, but the screen's area."""

    resized = Signal()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def childEvent(self, event: QChildEvent) -> None:
        dress_new_child(event, lambda child: isinstance(child, _ScreenArea))
        super().childEvent(event)


class _ScreenArea(QWidget):
    """The screen, then any side panel: the panels wear the theme's sheet, the screen not."""

    def childEvent(self, event: QChildEvent) -> None:
        dress_new_child(event, lambda child: isinstance(child, ScreenCanvas))
        super().childEvent(event)


class MainWindow(QMainWindow):
    """Shows one screen at a time; ``navigate``/``back`` change it, ``open_faceplate`` pops up
    a level-3 faceplate. ``kiosk``: full screen, no frame, closes only on Ctrl+Alt+Q."""

    closed = Signal()
    auditor_requested = Signal()  # the header's "Audit trail" button
    resized = Signal()  # what covers the window follows (an event filter ran for every event)

    def __init__(
        self,
        project: Project,
        bridge: QtTagBridge,
        *,
        screen: str | None = None,
        kiosk: bool = False,
        live_reload: bool = True,
        history: HistorySource | None = None,
        alarms: AlarmEngineService | None = None,
        alarm_marks: AlarmMarks | None = None,
        alarm_journal: AlarmJournal | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.history_source = history
        self.alarms = alarms
        self.alarm_marks = alarm_marks
        self.alarm_summary: AlarmSummaryView | None = None
        self.alarm_journal = alarm_journal
        self.tools: list[QWidget] = []  # history, KPI and ad-hoc trend windows opened
        self.setObjectName("MainWindow")
        self.project = project
        self.bridge = bridge
        self.kiosk = kiosk
        self.history: list[str] = []
        self.current_screen_id = ""
        self.canvas: ScreenCanvas | None = None
        self.designing = False  # design mode (hmi.views.designer) owns the canvas
        self._quit_requested = False
        self._released = False
        self._problems: list[str] = []
        self._build_problem = ""
        self._build_chrome()
        dress_children(self, lambda child: child is self.centralWidget())  # not the screen's way
        dress_children(self.centralWidget(), lambda child: child is self.screen_area)
        self.secondary = SecondaryWindows(self, self.header, self.status)
        self.faceplates = FaceplateManager(project.templates, self._context, self)
        self.live_reload: LiveReload | None = None
        if live_reload:
            self.live_reload = LiveReload(project, parent=self)
            self.live_reload.reloaded.connect(self._on_reloaded)
            self.live_reload.problems_changed.connect(self._on_problems)
            self.live_reload.restart_needed.connect(self._on_restart_needed)
        bridge.health_changed.connect(self.status.show_health)
        bridge.command_finished.connect(self.status.show_command)
        self.status.diagnostics_requested.connect(self.open_diagnostics)
        self.status.set_connections(
            sorted({tag.address.driver_key for tag in bridge.broker.tags.values()})
        )
        for health in bridge.health().values():
            self.status.show_health(health)
        self._shortcuts()
        start = screen or project.start_screen
        if start not in project.screens:
            raise ConfigError(
                f"no screen {start!r} in the project (known: {', '.join(sorted(project.screens))})"
            )
        self.navigate(start)
        if kiosk:
            self.setWindowFlags(
                self.windowFlags()
                | Qt.WindowType.FramelessWindowHint
                | Qt.WindowType.WindowStaysOnTopHint
            )

    def childEvent(self, event: QChildEvent) -> None:  # its tool bars, views, dialogs
        dress_new_child(event, lambda child: child is self.centralWidget())
        super().childEvent(event)

    # -- layout --------------------------------------------------------------------------------

    def _build_chrome(self) -> None:
        central = _Central(self)
        central.setObjectName("Central")
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)

        self.header = StationHeader(
            self.project.file.project.name,
            alarms=self.alarms,
            with_journal=self.alarm_journal is not None,
            parent=central,
        )
        header = self.header
        header.summary_requested.connect(self.show_alarm_summary)
        header.trend_requested.connect(self.open_adhoc_trend)
        header.history_requested.connect(self.open_alarm_history)
        header.kpis_requested.connect(self.open_alarm_kpis)
        header.auditor_requested.connect(self.auditor_requested.emit)
        self.project_label = header.project_label
        self.title_label = header.title_label
        self.alarm_banner = header.alarm_banner
        self.alarm_placeholder = header.alarm_placeholder
        self.trend_button = header.trend_button
        self.alarm_history_button = header.alarm_history_button
        self.alarm_kpis_button = header.alarm_kpis_button
        self.audit_button = header.audit_button
        column.addWidget(self.header)

        self.nav = NavBar(central)
        self.nav.set_screens(self.project.screens)
        self.nav.navigate.connect(self.navigate)
        self.nav.back.connect(self.back)
        column.addWidget(self.nav)

        self.screen_area = _ScreenArea(central)
        self.screen_area.setObjectName("ScreenArea")
        wear_ground(central, "area")
        wear_ground(self.screen_area, "area")
        self._screen_layout = QHBoxLayout(self.screen_area)  # the screen, then any side panel
        self._screen_layout.setContentsMargins(0, 0, 0, 0)
        self._screen_layout.setSpacing(0)
        self.side_panel: QWidget | None = None
        column.addWidget(self.screen_area, 1)
        for chrome in (self.header, self.nav):
            chrome.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setCentralWidget(central)
        # The window opens with nothing looking focused (else the first header button would
        # show the focus frame); Tab still walks the header and the screen from here.
        central.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        central.setFocus()

        self.status = StationStatusBar(self)
        self.setStatusBar(self.status)
        # live reload's problems: a mark in the status bar, a panel over the window for engineers
        self.reload_problems = ReloadProblemsView(self, central)
        central.resized.connect(self.reload_problems.panel.place)
        self.status.add_mark(self.reload_problems.mark)

    def _shortcuts(self) -> None:
        context = Qt.ShortcutContext.ApplicationShortcut
        quit_key = QShortcut(QKeySequence(QUIT_SHORTCUT), self, context=context)
        quit_key.activated.connect(self.quit)
        full = QShortcut(QKeySequence(FULLSCREEN_SHORTCUT), self, context=context)
        full.activated.connect(self.toggle_fullscreen)

    def present(self, *, fullscreen: bool = False) -> None:
        """Full screen in kiosk mode or when asked, else maximised; sized from the screen
        first, as without a window manager (a bare X kiosk box) nothing else sizes it. (Not
        on a screen smaller than the layout's minimum: Qt would grow the window back and drop
        its full-screen state.)"""
        screen = self.screen() or QGuiApplication.primaryScreen()
        full = fullscreen or self.kiosk
        target = screen.geometry() if full else screen.availableGeometry()
        least = self.minimumSizeHint()
        if least.width() <= target.width() and least.height() <= target.height():
            self.setGeometry(target)
        if full:
            self.showFullScreen()
        else:
            self.showMaximized()

    def toggle_fullscreen(self) -> None:
        if self.kiosk:
            return
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    # -- screens -------------------------------------------------------------------------------

    def _context(self, screen_id: str) -> WidgetContext:
        return WidgetContext(
            bridge=self.bridge,
            tags=self.bridge.broker.tags,
            navigate=self._navigate_from_screen,
            open_faceplate=self.open_faceplate,
            project_root=project_dir(self.project),
            screen_id=screen_id,
            history=self.history_source,
            alarms=self.alarm_marks,
        )

    def _build_canvas(self, screen_id: str, screen: ScreenFile | None = None) -> ScreenCanvas:
        screen = screen or self.project.screens[screen_id]
        _probe_rss_before_first_screen()
        return ScreenCanvas.for_screen(
            screen, self._context(screen_id), self.project.templates, self.screen_area
        )

    def show_screen_file(self, screen: ScreenFile | None = None) -> ScreenCanvas:
        """Rebuild the current screen, from ``screen`` (the designer's unsaved state) or from
        the project; raises what building raises, keeping the old canvas."""
        canvas = self._build_canvas(self.current_screen_id, screen)
        self._swap(canvas)
        return canvas

    def navigate(self, screen_id: str) -> bool:
        """Show a screen by id; False (and a message) when it is unknown or cannot be built."""
        if screen_id not in self.project.screens:
            self.status.show_message(f"no screen {screen_id!r} in this project", outcome="failed")
            self.nav.show_current(self.current_screen_id, can_go_back=bool(self.history))
            return False
        if screen_id == self.current_screen_id:
            return True
        if not self._show(screen_id):
            return False
        if self.current_screen_id:
            self.history.append(self.current_screen_id)
        self._set_current(screen_id)
        return True

    def _navigate_from_screen(self, screen_id: str) -> None:
        self.navigate(screen_id)

    def back(self) -> bool:
        while self.history:
            previous = self.history.pop()
            if previous in self.project.screens and self._show(previous):
                self._set_current(previous)
                return True
        return False

    def _show(self, screen_id: str) -> bool:
        try:
            canvas = self._build_canvas(screen_id)
        except Exception as exc:
            log.exception("screen %s could not be built", screen_id)
            self.status.show_message(f"screen {screen_id}: {exc}", outcome="failed")
            self.nav.show_current(self.current_screen_id, can_go_back=bool(self.history))
            return False
        self._swap(canvas)
        return True

    def _swap(self, canvas: ScreenCanvas) -> None:
        old = self.canvas
        if old is not None:
            self._screen_layout.replaceWidget(old, canvas)
            old.release()
            old.hide()
            old.deleteLater()
        else:
            self._screen_layout.insertWidget(0, canvas, 1)
        canvas.show()
        self.canvas = canvas

    def set_side_panel(self, panel: QWidget | None) -> None:
        """A panel right of the screen, below the header (the designer's palette, inspector
        and tag picker), or none; the screen scales into the room left."""
        if self.side_panel is not None:
            self._screen_layout.removeWidget(self.side_panel)
            self.side_panel.hide()
            self.side_panel.deleteLater()
        self.side_panel = panel
        if panel is not None:
            self._screen_layout.addWidget(panel)
            panel.show()

    def _set_current(self, screen_id: str) -> None:
        self.current_screen_id = screen_id
        title = self.project.screens[screen_id].screen.title
        self.title_label.setText(title)
        # Screen first, project once: Qt appends the application's display name (the
        # project's, set by ``run``) unless the title already ends with it.
        self.setWindowTitle(f"{title} — {self.project.file.project.name}")
        self.nav.show_current(screen_id, can_go_back=bool(self.history))

    def open_faceplate(self, template_id: str, params: Mapping[str, str]) -> None:
        try:
            self.faceplates.open(template_id, params)
        except Exception as exc:
            log.exception("faceplate %s could not be opened", template_id)
            self.status.show_message(f"faceplate {template_id}: {exc}", outcome="failed")

    # -- live reload ---------------------------------------------------------------------------

    def adopt(self, project: Project) -> None:
        """The project as the designer just wrote it (a new screen): as a live reload."""
        self._on_reloaded(project)

    def _on_reloaded(self, project: Project) -> None:
        """A valid change: rebuild the current screen in place; on failure keep the old one."""
        self.project = project
        self.nav.set_screens(project.screens)
        self.faceplates.set_templates(project.templates)
        if self.designing:  # the designer's canvas stays; leaving design mode rebuilds
            return
        target = self.current_screen_id
        if target not in project.screens:
            target = project.start_screen
            self.history.clear()
        try:
            canvas = self._build_canvas(target)
        except Exception as exc:
            log.exception("reloaded screen %s could not be built", target)
            self._build_problem = f"screen {target} could not be built: {exc}"
            self._show_strip()
            return
        self._build_problem = ""
        self._show_strip()
        self._swap(canvas)
        self._set_current(target)

    def _on_problems(self, problems: list[str]) -> None:
        self._problems = list(problems)
        self._show_strip()

    def _on_restart_needed(self, text: str) -> None:
        self.reload_problems.show_notice(text)

    def _show_strip(self) -> None:
        build = [self._build_problem] if self._build_problem else []
        self.reload_problems.show_problems([*self._problems, *build])

    def set_engineer(self, engineer: bool) -> None:
        """Whether the logged-in user may edit the configuration (``edit_config``): they see
        live reload's problems; operators keep the last good screen and a quiet mark."""
        self.reload_problems.set_engineer(engineer)

    # -- closing -------------------------------------------------------------------------------

    def quit(self) -> None:
        """Close even in kiosk mode (Ctrl+Alt+Q)."""
        self._quit_requested = True
        self.close()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.kiosk and not self._quit_requested:
            event.ignore()
            self.status.show_message(f"kiosk mode: {QUIT_SHORTCUT} closes the HMI")
            return
        self.release()
        super().closeEvent(event)
        self.closed.emit()

    def show_alarm_summary(self) -> None:
        """The alarm summary (from the banner): every action in it goes through the command
        service."""
        if self.alarms is None:
            return
        if self.alarm_summary is None:
            self.alarm_summary = AlarmSummaryView(
                self.alarms, self.bridge.commands, tags=self.bridge.broker.tags
            )
            self.alarm_summary.setWindowTitle("Alarm summary")
            self.bridge.access_changed.connect(self.alarm_summary.update_actions)
            self.alarm_summary.resize(1280, 600)
        self.secondary.present(self.alarm_summary)

    def _show_tool(self, window: QWidget, title: str) -> QWidget:
        window.setWindowTitle(title)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.destroyed.connect(
            lambda *_: self.tools.remove(window) if window in self.tools else None
        )
        self.tools.append(window)
        window.resize(1100, 600)
        return self.secondary.present(window)

    def open_adhoc_trend(self) -> QWidget:
        """A trend of any tags the operator picks (released when closed)."""
        from hmi.widgets.trend.adhoc import AdhocTrendDialog  # pyqtgraph on first use

        return self._show_tool(
            AdhocTrendDialog(self._context("adhoc_trend"), history=self.history_source),
            "Ad-hoc trend",
        )

    def open_alarm_history(self) -> QWidget | None:
        if self.alarm_journal is None:
            return None
        history = AlarmHistoryView(self.alarm_journal, tags=self.bridge.broker.tags)
        return self._show_tool(history, "Alarm history")

    def open_diagnostics(self) -> QWidget:
        """Station diagnostics (a click on a status-bar mark): one window, brought to front."""
        for tool in self.tools:
            if isinstance(tool, StationDiagnosticsView):
                return self.secondary.present(tool)
        view = self._show_tool(StationDiagnosticsView(self.status.diagnostics), "Diagnostics")
        view.resize(1000, 360)
        return view

    def open_alarm_kpis(self) -> QWidget | None:
        if self.alarm_journal is None:
            return None
        return self._show_tool(AlarmKpiView(self.alarm_journal), "Alarm KPIs")

    def release(self) -> None:
        """Close faceplates and unbind the screen; idempotent."""
        if self._released:
            return
        self._released = True
        for tool in list(self.tools):
            tool.close()
        if isinstance(self.alarm_banner, AlarmBanner):
            self.alarm_banner.release()
        if self.alarm_summary is not None:
            self.alarm_summary.release()
            self.alarm_summary.close()
        self.faceplates.close_all()
        if self.canvas is not None:
            self.canvas.release()
        if self.live_reload is not None:
            self.live_reload.deleteLater()
            self.live_reload = None


RSS_PROBE = "HMI_RSS_PROBE"
"""Set (to anything) in the environment: the window logs its resident memory once, right
before the first screen is built (``bench/bench_frugal.py`` reads it)."""
_probed: list[bool] = []


def _probe_rss_before_first_screen() -> None:
    """``rss-probe: VmRSS <kB> kB`` once per process if ``HMI_RSS_PROBE`` is set (Linux)."""
    if _probed or not os.environ.get(RSS_PROBE):
        return
    _probed.append(True)
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            log.warning("rss-probe: VmRSS %s kB", line.split()[1])
