"""Composition root: builds the station from a project and runs it under qasync. No logic of
its own beyond wiring and start-up/shut-down order.

The one write path is wired here: widgets -> bridge -> command service, whose guard is the
session's ``PermissionGuard`` (with the Qt confirmation dialogs) and whose recorder writes to
the audit trail (central database, or the local spool while it is away)."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

from hmi import __version__
from hmi.drivers.base import DriverRegistry
from hmi.model.alarms.station import station_alarms
from hmi.model.audit.record import AuditAction
from hmi.model.errors import ConfigError, ProjectError
from hmi.model.forwarding import FORWARDING_CONNECTION
from hmi.model.paths import user_data_dir
from hmi.model.screens.loader import Project, load_project
from hmi.model.screens.templates import trended_tags
from hmi.qt_platform import xcb_problem
from hmi.resources import icon_path, theme_path
from hmi.runtime.alarm_journal import AlarmJournalWriter
from hmi.runtime.alarm_share import SharedAlarms
from hmi.runtime.alarms import AlarmEngineService
from hmi.runtime.audit import NOBODY, AuditRecorder
from hmi.runtime.broker import TagBroker
from hmi.runtime.commands import CommandService
from hmi.runtime.directory import Directory, DirectorySignIn
from hmi.runtime.forwarding import EventForwarder, EventSource, ForwardCursor, ForwardStatus
from hmi.runtime.historian import StationHistory
from hmi.runtime.qt_bridge import QtTagBridge
from hmi.runtime.services.station import (
    StationServices,
    build_services,
    database_url,
    key_hint,
)
from hmi.runtime.session import PermissionGuard, SessionService, UserAdministration
from hmi.runtime.session_watch import SessionWatch
from hmi.storage.shared.directory_accounts import DirectoryUserStore
from hmi.storage.trail import AuditTrail, TrailStatus
from hmi.storage.users import UserStore
from hmi.views.designer.mode import DesignMode
from hmi.views.first_paint import FirstPaint, close_after_first_paint
from hmi.views.login.confirm import QtConfirmer
from hmi.views.login.session import SessionController
from hmi.views.login.users import UsersDialog
from hmi.views.main_window import MainWindow
from hmi.views.station_diagnostics import historian_row
from hmi.widgets.alarm_mark import AlarmMarks
from hmi.widgets.theme import chrome as theme

__all__ = [
    "GuiThreadCollector",
    "Station",
    "apply_theme",
    "build_station",
    "database_url",
    "key_hint",
    "run",
    "site_key",
]

log = logging.getLogger(__name__)


class GuiThreadCollector:
    """The cyclic garbage collector, run on the GUI thread from a timer instead of wherever
    an allocation happens to trip it (pyqtgraph's ``GarbageCollector``, without importing
    pyqtgraph and numpy before a trend exists). Same thresholds as Python's own."""

    def __init__(self, *, interval_ms: int) -> None:
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer()
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        l0, l1, l2 = gc.get_count()
        if l0 > self.threshold[0]:
            gc.collect(0)
            if l1 > self.threshold[1]:
                gc.collect(1)
                if l2 > self.threshold[2]:
                    gc.collect(2)


FREEZE_AFTER_PAINT_S = 0.25  # the collect-and-freeze pass, after the first screen painted
RECENT_SAMPLES = 36_000  # per trended tag: 10 h at 1 Hz, 0.6 MB


@dataclass
class Station:
    """Everything one operator station runs, wired together."""

    project: Project
    broker: TagBroker
    commands: CommandService
    bridge: QtTagBridge
    window: MainWindow
    trail: AuditTrail
    users: UserStore
    recorder: AuditRecorder
    sessions: SessionService
    guard: PermissionGuard
    session_ui: SessionController
    history: StationHistory
    alarms: AlarmEngineService
    alarm_journal: AlarmJournalWriter
    owns_trail: bool = True  # built here (closed on stop), not handed in
    session_watch: SessionWatch | None = None  # ends a session whose user changed anywhere
    forwarder: EventForwarder | None = None  # to the SIEM, when forwarding.syslog is set
    alarm_share: SharedAlarms | None = None  # one alarm picture with the other stations
    design: DesignMode | None = None  # the screen designer (Ctrl+E, engineers and admins)
    services: StationServices | None = None  # those of hmi serve: what the fields above are

    async def start(self) -> None:
        """Start the audit trail's worker, the drivers, the UI's refresh timer and the
        inactivity lock; record the start."""
        await self._services.start()
        self.bridge.start()
        self.session_ui.start()
        if self.session_watch is not None:
            await self.session_watch.start()
        await self._record(AuditAction.APP_START)
        if self.forwarder is not None:
            self._start_forwarding(self.forwarder)

    def _start_forwarding(self, forwarder: EventForwarder) -> None:
        """Its status reaches the status bar and the station alarm on this loop."""
        loop = asyncio.get_running_loop()

        def on_status(status: ForwardStatus) -> None:  # on the UI loop
            if isValid(self.window):
                self.window.status.show_forwarding(status)
            lost_at = status.failing_since if status.failing_since is not None else time.time()
            self.alarms.engine.update_connection(FORWARDING_CONNECTION, status.failing, lost_at)

        forwarder.on_status = lambda status: loop.call_soon_threadsafe(on_status, status)
        forwarder.start()

    async def stop(self) -> None:
        """Unbind the UI, stop the refresh timer and the drivers, end the session, record the
        stop, then close the audit trail (after every record queued is durable)."""
        if self.forwarder is not None:
            await asyncio.to_thread(self.forwarder.stop)  # the cursor stays where confirmed
            self.forwarder.source.close()
        self.session_ui.stop()
        self.window.release()
        self.bridge.stop()
        await self._services.stop()
        if self.session_watch is not None:
            await self.session_watch.stop()
        try:
            await self.sessions.logout(reason="station stopped")
        except Exception:
            log.exception("the logout at stop could not be recorded")
        await self._record(AuditAction.APP_STOP)
        await self._services.close_trail()

    @property
    def _services(self) -> StationServices:
        """The services (those handed in, else ones of the fields: a station put together by
        hand)."""
        if self.services is None:
            self.services = StationServices(
                self.project, self.broker, self.trail, self.recorder, self.alarms,
                self.alarm_journal, self.history, alarm_share=self.alarm_share,
                owns_trail=self.owns_trail,
            )  # fmt: skip
        return self.services

    async def _record(self, action: AuditAction) -> None:
        try:
            await self.recorder.record_action(
                action, actor=NOBODY, origin="station", new_value=self.project.file.project.name
            )
        except Exception as exc:  # the station runs on; the status bar says what is wrong
            log.error("could not record %s: %s", action.value, exc)
            if isValid(self.window):
                self.window.status.show_message(f"audit trail: {exc}", outcome="failed")


def site_key(project: Project) -> bytes | None:
    """The site's audit HMAC key (``ProjectFile.site_key``)."""
    return project.file.site_key()


def build_station(
    project: Project,
    *,
    registry: DriverRegistry | None = None,
    screen: str | None = None,
    kiosk: bool = False,
    live_reload: bool = True,
    database: str | None = None,
    trail: AuditTrail | None = None,
    users: UserStore | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Station:
    """Build audit trail, users, session, broker, command service, bridge and main window
    (not shown, not started). Needs a QApplication; ``await station.start()`` needs a running
    asyncio loop (qasync).

    ``database`` overrides the project's database URL; ``trail`` (with ``users``) hands in an
    audit trail already open (the caller closes it). ``clock`` is the session's
    clock (the inactivity lock, signature expiry)."""
    settings = project.file.settings
    security = project.file.security
    key = site_key(project)
    status_sinks: list[Callable[[TrailStatus], None]] = []
    window_of: list[MainWindow] = []  # the window, once there is one

    def on_status(status: TrailStatus) -> None:  # to the status bar, once there is one
        for sink in status_sinks:
            sink(status)

    def on_share(text: str) -> None:
        if window_of and isValid(window_of[0]):
            window_of[0].status.show_message(f"alarm picture: {text}",
                                             outcome="info" if text == "shared" else "failed")  # fmt: skip

    # The services are those hmi serve runs (hmi.runtime.services); the window is their client.
    services = build_services(
        project, trail=trail, database=database, registry=registry,
        extra_alarms=station_alarms(),
        trended=trended_tags(project.screens.values(), project.templates),
        memory_capacity=RECENT_SAMPLES, on_trail_status=on_status, on_share_status=on_share,
    )  # fmt: skip
    trail, broker, alarms, history = (
        services.trail,
        services.broker,
        services.alarms,
        services.history,
    )
    recorder = services.recorder
    directory = security.directory
    if users is None:
        users = (UserStore if directory is None else DirectoryUserStore)(
            trail.store.engine, security=security, chain=trail.store,
            identity={"workstation": project.file.database.workstation, "app_version": __version__},
        )  # fmt: skip
    sign_in = None
    if directory is not None and isinstance(users, DirectoryUserStore):
        sign_in = DirectorySignIn(Directory(directory, folder=Path(project.root)), users, trail)
    sessions = SessionService(
        users, trail, recorder, security=security, clock=clock, directory=sign_in
    )
    confirmer = QtConfirmer(sessions)
    guard = PermissionGuard(sessions, confirmer, hold=lambda: trail.refuses_actions)
    status_sinks.append(_trail_alarms(alarms))
    status_sinks[-1](trail.status)  # a hold left from an earlier run is known already
    commands = CommandService(broker, guard=guard, recorder=recorder, alarms=alarms)
    bridge = QtTagBridge(broker, commands, refresh_hz=settings.ui_refresh_hz)
    sessions.add_listener(lambda _session: bridge.access_changed.emit())  # buttons follow roles
    window = MainWindow(
        project, bridge, screen=screen, kiosk=kiosk, live_reload=live_reload,
        history=history.source, alarms=alarms, alarm_marks=AlarmMarks(alarms),
        alarm_journal=services.journal,
    )  # fmt: skip
    window_of.append(window)
    if services.alarm_share is None:
        window.status.show_message("alarms: no central database, this station works alone")
    confirmer.parent = window
    if (historian := history.recorder) is not None:
        window.status.diagnostics.add_probe("historian", lambda: historian_row(historian.status()))
    status_sinks.append(  # the trail may report after the window is gone (the station stopping)
        lambda status: window.status.show_trail(status) if isValid(window.status) else None
    )
    status_sinks.append(_key_refusal_notice(window))
    window.status.show_trail(trail.status)
    sessions.add_alert_listener(
        lambda text: window.status.show_message(f"users: {text}", outcome="failed")
        if isValid(window) else None
    )  # fmt: skip
    store_url = services.store_url
    header = project.file.project
    site = f"{header.name} ({header.site})" if header.site else header.name
    states = {name: dict(tag.states) for name, tag in project.tags.items() if tag.states}
    admin = UserAdministration(sessions, users, trail)

    def auditor() -> QWidget:  # the audit viewer (its queries, the PDF report) loads on first use
        from hmi.views.audit.viewer import AuditorView

        return AuditorView(
            store_url, key=key, sessions=sessions, recorder=recorder, site=site, states=states
        )

    session_ui = SessionController(
        window,
        sessions,
        confirmer,
        auditor=auditor,
        users=lambda: UsersDialog(admin, sessions, parent=window),
    )
    return Station(
        project, broker, commands, bridge, window, trail, users, recorder, sessions, guard,
        session_ui, history, alarms, services.alarm_journal, services.owns_trail,
        SessionWatch(sessions, users, url=store_url), _forwarder(project, store_url),
        services.alarm_share,
        DesignMode(window, sessions, guard, login=session_ui.show_login, recorder=recorder),
        services,
    )  # fmt: skip


def _forwarder(project: Project, url: str) -> EventForwarder | None:
    """The SIEM forwarder of ``forwarding.syslog``, its cursor in the user data folder (one
    file per database and collector), reading on engines of its own."""
    forwarding = project.file.forwarding
    if forwarding.syslog is None:
        return None
    settings = forwarding.syslog.resolved(Path(project.root))
    source = EventSource.open(
        url,
        workstation=project.file.database.workstation if forwarding.scope == "station" else None,
    )
    plain = source.audit.url
    key = f"{plain} -> {settings.collector.url}"
    name = hashlib.sha256(key.encode()).hexdigest()[:16]
    cursor = ForwardCursor(user_data_dir() / f"forward-{name}.json", key=key)
    return EventForwarder(settings, source, cursor=cursor)


def _trail_alarms(alarms: AlarmEngineService) -> Callable[[TrailStatus], None]:
    """The audit trail's trust as the station alarms ``station.audit_trail`` (the chain went
    behind this station's witness) and ``station.audit_spool`` (a spool failed its check)."""

    def on_status(status: TrailStatus) -> None:
        alarms.station_condition("audit_trail", bool(status.trust), status.trust)
        alarms.station_condition("audit_spool", bool(status.hold), status.hold)

    return on_status


def _key_refusal_notice(window: MainWindow) -> Callable[[TrailStatus], None]:
    """A refused audit key, said once in the status bar's message line too: the spool
    warning alone reads like a network fault, and only a restart with the right key ends it."""
    refused = False

    def on_status(status: TrailStatus) -> None:
        nonlocal refused
        if status.key_refused and not refused and isValid(window):
            window.status.show_message(f"audit trail: {status.detail}", outcome="failed")
        refused = status.key_refused

    return on_status


def apply_theme(app: QApplication, name: str = "isa101") -> None:
    """The ISA-101 theme (its style sheet on the station's windows and chrome, its colours on
    the screen widgets: ``hmi.widgets.theme.chrome``) and the window icon; a missing file is
    logged, not fatal."""
    try:
        theme.install(app, theme_path(name).read_text(encoding="utf-8"))
    except (ConfigError, OSError) as exc:
        theme.uninstall()
        log.warning("no theme: %s", exc)
    try:
        app.setWindowIcon(QIcon(str(icon_path("hmi"))))
    except ConfigError as exc:
        log.warning("no window icon: %s", exc)


def _collect_and_freeze() -> None:
    gc.collect()
    gc.freeze()


async def _serve(station: Station, *, fullscreen: bool, smoke: bool = False) -> int:
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_closed() -> None:
        if not closed.done():
            closed.set_result(None)

    station.window.closed.connect(on_closed)
    await station.start()
    try:
        admin_ready = smoke or await station.session_ui.first_run(station.users, station.trail)
    except Exception as exc:
        admin_ready = True  # the users are in the central database, which is away: run on
        log.error("cannot check for an administrator: %s", exc)
    if not admin_ready:
        print(
            "hmi: no administrator was created; the station needs one (or run "
            "`hmi users add ID --role admin --name NAME`)",
            file=sys.stderr,
        )
        await station.stop()
        return 1
    station.window.present(fullscreen=fullscreen)
    # Everything built so far lives as long as the station: take it out of the collector's
    # generations, so full collections do not stall the UI for 100-300 ms with many tags. A
    # moment after the first screen has painted: the pass (50-100 ms) holds the loop, and the
    # operator need not wait for it to see the screen.
    loop = asyncio.get_running_loop()
    FirstPaint(station.window.canvas or station.window).painted.add_done_callback(
        lambda _painted: loop.call_later(FREEZE_AFTER_PAINT_S, _collect_and_freeze)
    )
    if smoke:  # hmi run --smoke: the first screen painted (0) or not (1), then closed
        code, said = await close_after_first_paint(station.window, station.trail, station.users)
        print(f"hmi run --smoke: {said}", file=sys.stderr if code else sys.stdout)
    await closed
    await station.stop()
    return code if smoke else 0


def run(
    project_path: str | Path,
    *,
    kiosk: bool = False,
    fullscreen: bool = False,
    screen: str | None = None,
    smoke: bool = False,  # close once the first screen has painted: a check of a build
    design: bool = False,  # hmi edit: in design mode once an engineer or admin signs in
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
    if QApplication.instance() is None and (problem := xcb_problem()) is not None:
        print(f"hmi: {problem}", file=sys.stderr)  # else Qt aborts, blaming xcb-cursor0
        return 1
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("HMI")
    app.setApplicationDisplayName(project.file.project.name)
    app.setQuitOnLastWindowClosed(False)  # the loop ends when the station has stopped
    # The audit trail's worker thread allocates all the time: left to Python, the cyclic
    # collector would run there and delete Qt objects off the GUI thread (a crash). Collect on
    # the GUI thread, on a timer, instead.
    collector = GuiThreadCollector(interval_ms=1000)
    apply_theme(app, project.file.settings.theme)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        try:
            station = build_station(project, screen=screen, kiosk=kiosk)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            return 1
        if design and station.design is not None:  # once the window is up
            station.design.request()
        return loop.run_until_complete(_serve(station, fullscreen=fullscreen, smoke=smoke))
    finally:
        collector.timer.stop()
        gc.enable()
        loop.close()
        asyncio.set_event_loop(None)
