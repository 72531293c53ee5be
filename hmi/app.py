"""Composition root: builds the station from a project and runs it under qasync. No logic of
its own beyond wiring and start-up/shut-down order."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import qasync
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from hmi.drivers.base import DriverRegistry
from hmi.drivers.defaults import default_registry
from hmi.model.errors import ConfigError, ProjectError
from hmi.model.loader import load_project
from hmi.model.project import Project
from hmi.model.templates import trended_tags
from hmi.resources import icon_path, theme_path
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService
from hmi.runtime.history import MemoryHistory
from hmi.runtime.qt_bridge import QtTagBridge
from hmi.views.main_window import MainWindow

__all__ = ["Station", "apply_theme", "build_station", "run"]

log = logging.getLogger(__name__)

RECENT_SAMPLES = 36_000  # per trended tag: 10 h at 1 Hz, 0.6 MB


@dataclass
class Station:
    """Everything one operator station runs, wired together."""

    project: Project
    broker: TagBroker
    commands: CommandService
    bridge: QtTagBridge
    window: MainWindow

    async def start(self) -> None:
        """Start the drivers, then the UI's refresh timer."""
        await self.broker.start()
        self.bridge.start()

    async def stop(self) -> None:
        """Unbind the UI, stop the refresh timer, then the drivers."""
        self.window.release()
        self.bridge.stop()
        await self.broker.stop()


def build_station(
    project: Project,
    *,
    registry: DriverRegistry | None = None,
    screen: str | None = None,
    kiosk: bool = False,
    live_reload: bool = True,
) -> Station:
    """Build broker, command service, bridge and main window (not shown, not started). Needs a
    QApplication; ``await station.start()`` needs a running asyncio loop (qasync)."""
    settings = project.file.settings
    broker = TagBroker(
        project.tags,
        registry or default_registry(),
        project.file.connections,
    )
    commands = CommandService(broker)
    bridge = QtTagBridge(broker, commands, refresh_hz=settings.ui_refresh_hz)
    # Until the historian stores them, the station keeps the recent past of trended tags in
    # memory (every change, not the UI's batch), so a trend opens with what came before.
    trended = trended_tags(project.screens.values(), project.templates)
    history = MemoryHistory(RECENT_SAMPLES, only=trended)
    broker.add_listener(history.record)
    window = MainWindow(
        project, bridge, screen=screen, kiosk=kiosk, live_reload=live_reload, history=history
    )
    return Station(project, broker, commands, bridge, window)


def apply_theme(app: QApplication, name: str = "isa101") -> None:
    """The ISA-101 style sheet and the window icon; a missing file is logged, not fatal."""
    try:
        app.setStyleSheet(theme_path(name).read_text(encoding="utf-8"))
    except (ConfigError, OSError) as exc:
        log.warning("no theme: %s", exc)
    try:
        app.setWindowIcon(QIcon(str(icon_path("hmi"))))
    except ConfigError as exc:
        log.warning("no window icon: %s", exc)


async def _serve(station: Station, *, fullscreen: bool) -> int:
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_closed() -> None:
        if not closed.done():
            closed.set_result(None)

    station.window.closed.connect(on_closed)
    await station.start()
    station.window.present(fullscreen=fullscreen)
    # Everything built so far lives as long as the station: take it out of the collector's
    # generations, so full collections do not stall the UI for 100-300 ms with many tags.
    gc.collect()
    gc.freeze()
    await closed
    await station.stop()
    return 0


def run(
    project_path: str | Path,
    *,
    kiosk: bool = False,
    fullscreen: bool = False,
    screen: str | None = None,
) -> int:
    """Run the operator station on a project until its window is closed; the exit code."""
    try:
        project = load_project(project_path)
    except ProjectError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    if screen is not None and screen not in project.screens:
        print(
            f"no screen {screen!r} in {project_path} (known: {', '.join(sorted(project.screens))})",
            file=sys.stderr,
        )
        return 2
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("HMI")
    app.setApplicationDisplayName(project.file.project.name)
    app.setQuitOnLastWindowClosed(False)  # the loop ends when the station has stopped
    apply_theme(app, project.file.settings.theme)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        try:
            station = build_station(project, screen=screen, kiosk=kiosk)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 1
        return loop.run_until_complete(_serve(station, fullscreen=fullscreen))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
