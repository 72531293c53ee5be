"""Wires the session service to the main window: the status bar's user button (log in, log
out, lock, change password, users), the inactivity lock (an event filter on each top-level
window calls ``touch()``, a timer calls ``check_idle()``), the lock screen, the first-run
administrator, and the auditor view, which only users holding ``view_audit`` may open.

The filter sits on the windows (``QWindow``), not on the application: every key, click, wheel
and touch from the platform is delivered to a window first, so the filter sees all of them,
and nothing else at rest (an application-wide filter is a Python call for every event of
every object: each timer, paint and posted event, the idle station's largest cost). Windows
are watched as they take the focus and on every idle check (popups, windows shown without
it). Tests give input the platform's way, to the window (``QTest`` on ``windowHandle()``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from shiboken6 import isValid

from hmi.model.security import Permission
from hmi.runtime.session import Session, SessionService
from hmi.storage.users import UserStore
from hmi.views.login.confirm import QtConfirmer
from hmi.views.login.dialogs import ChangePasswordDialog, FirstAdminDialog, LoginDialog
from hmi.views.login.lock import LockScreen
from hmi.views.main_window import MainWindow

__all__ = ["IDLE_CHECK_MS", "SessionController"]

log = logging.getLogger(__name__)

IDLE_CHECK_MS = 1000
_INPUT = frozenset(
    {
        QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
        QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
    }
)  # fmt: skip


def describe_session(session: Session | None) -> str:
    if session is None:
        return "not logged in"
    user = session.user
    text = f"{user.full_name} ({user.role})"
    return f"{text}, locked" if session.locked else text


class SessionController(QObject):
    """``auditor()`` builds the auditor view (the composition root knows the database);
    ``users()`` the user administration dialog, if the station offers one."""

    def __init__(
        self,
        window: MainWindow,
        sessions: SessionService,
        confirmer: QtConfirmer,
        *,
        auditor: Callable[[], QWidget] | None = None,
        users: Callable[[], QWidget] | None = None,
        idle_check_ms: int = IDLE_CHECK_MS,
    ) -> None:
        super().__init__()  # not the window's child: it outlives a window closed before stop()
        self.window = window
        self.sessions = sessions
        self.confirmer = confirmer
        self._make_auditor = auditor
        self._make_users = users
        self.auditor: QWidget | None = None
        self._auditor_session = ""
        self.users_dialog: QWidget | None = None
        self.dialog: QDialog | None = None  # the login or password dialog now open
        self.lock_screen = LockScreen(sessions, window)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._filtering = False
        self._stopped = False
        self._locking: asyncio.Task[Any] | None = None
        self._idle = QTimer(self)
        self._idle.setInterval(idle_check_ms)
        self._idle.timeout.connect(self.check_idle)
        status = window.status
        status.login_requested.connect(self.show_login)
        status.logout_requested.connect(self.logout)
        status.lock_requested.connect(self.lock)
        status.password_requested.connect(lambda: self.show_password())
        status.users_requested.connect(self.open_users)
        window.auditor_requested.connect(self.open_auditor)
        sessions.add_listener(self._on_session)
        self._on_session(sessions.current)

    # -- running -------------------------------------------------------------------------------

    def start(self) -> None:
        self._stopped = False
        app = QApplication.instance()
        if isinstance(app, QGuiApplication) and not self._filtering:
            app.focusWindowChanged.connect(self._watch)
            self._filtering = True
            self._watch_windows()
        self.sessions.touch()
        self._idle.start()

    def stop(self) -> None:
        """Stop watching; close what is open. The window may be gone already."""
        self._stopped = True
        self._idle.stop()
        app = QApplication.instance()
        if isinstance(app, QGuiApplication) and self._filtering:
            app.focusWindowChanged.disconnect(self._watch)
            self._filtering = False
            for window in QGuiApplication.topLevelWindows():
                window.removeEventFilter(self)
        self.confirmer.cancel_all()
        self.close_auditor()
        for widget in (self.dialog, self.users_dialog):
            if widget is not None and isValid(widget):
                widget.close()

    def _watch(self, window: QWindow | None) -> None:
        if window is not None and self._filtering:
            window.installEventFilter(self)  # once: Qt moves a filter installed again

    def _watch_windows(self) -> None:
        for window in QGuiApplication.topLevelWindows():
            self._watch(window)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT:
            self.sessions.touch()
        return False

    def check_idle(self) -> None:
        self._watch_windows()  # the windows shown since, that did not take the focus
        if self._locking is not None and not self._locking.done():
            return  # the lock is being recorded
        if self.sessions.lock_due():
            self._locking = self._spawn(self.sessions.check_idle())

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("session action failed: %s", exc)
            if isValid(self.window):
                self.window.status.show_message(f"session: {exc}", outcome="failed")

    # -- the session changed -------------------------------------------------------------------

    def _on_session(self, session: Session | None) -> None:
        if self._stopped or not isValid(self.window):
            return
        self.window.status.show_user(
            describe_session(session),
            logged_in=session is not None,
            locked=bool(session and session.locked),
            manages_users=self.sessions.can(Permission.MANAGE_USERS),
        )
        self.window.audit_button.setEnabled(self.sessions.can(Permission.VIEW_AUDIT))
        self.window.set_engineer(self.sessions.can(Permission.EDIT_CONFIG))
        if session is None or session.locked:
            self.confirmer.cancel_all()
        if self.auditor is not None and (
            not self.sessions.can(Permission.VIEW_AUDIT)
            or session is None
            or session.session_id != self._auditor_session
        ):  # the auditor's window is theirs: closed when they leave, lock or lose the right
            self.close_auditor()
        if not self.sessions.can(Permission.MANAGE_USERS) and self.users_dialog is not None:
            self.users_dialog.close()
            self.users_dialog = None
        if session is not None and session.locked:
            self.window.faceplates.close_all()
            user = session.user
            self.lock_screen.present(f"{user.full_name} ({user.user_id}, {user.role})")
        elif not (session is None and self.lock_screen.busy):  # not while switching users
            self.lock_screen.hide()

    # -- the user button -----------------------------------------------------------------------

    def _open(self, dialog: QDialog) -> QDialog:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.finished.connect(lambda _code: self._closed(dialog))
        dialog.open()
        return dialog

    def _closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def show_login(self) -> LoginDialog:
        dialog = LoginDialog(self.sessions, parent=self.window)
        dialog.accepted.connect(lambda: self._after_login(dialog.session))
        self._open(dialog)
        return dialog

    def _after_login(self, session: Session | None) -> None:
        if session is None:
            return
        user = session.user
        if user.must_change_password or user.password_expired:
            why = (
                "Your password has expired: choose a new one to go on."
                if user.password_expired
                else "Your password was set by an administrator: choose your own to go on."
            )
            QTimer.singleShot(0, lambda: self.show_password(why=why))

    def show_password(self, *, why: str = "") -> ChangePasswordDialog | None:
        if self.sessions.current is None:
            return None
        dialog = ChangePasswordDialog(self.sessions, why=why, parent=self.window)
        if why:  # required: no session without one's own, current password
            dialog.rejected.connect(
                lambda: self._spawn(
                    self.sessions.logout(reason="required password change not made")
                )
            )
        self._open(dialog)
        return dialog

    def logout(self) -> None:
        self._spawn(self.sessions.logout(reason="logged out by the user"))

    def lock(self) -> None:
        self._spawn(self.sessions.lock())

    def open_users(self) -> None:
        if self._make_users is None or not self.sessions.can(Permission.MANAGE_USERS):
            return
        if self.users_dialog is None:
            self.users_dialog = self._make_users()
        self.window.secondary.present(self.users_dialog)

    def open_auditor(self) -> QWidget | None:
        if not self.sessions.can(Permission.VIEW_AUDIT):
            self.window.status.show_message(
                "the audit trail needs the view_audit permission: log in as an auditor, "
                "supervisor, engineer or administrator", outcome="denied",
            )  # fmt: skip
            return None
        if self._make_auditor is None:
            return None
        if self.auditor is None:
            self.auditor = self._make_auditor()
            self.auditor.destroyed.connect(self._auditor_gone)
            current = self.sessions.current
            self._auditor_session = current.session_id if current else ""
        return self.window.secondary.present(self.auditor)

    def _auditor_gone(self) -> None:
        self.auditor = None

    def close_auditor(self) -> None:
        if self.auditor is not None:
            auditor, self.auditor = self.auditor, None
            if isValid(auditor):
                auditor.close()

    # -- first start ---------------------------------------------------------------------------

    async def first_run(self, users: UserStore, worker: Any) -> bool:
        """If no enabled user may manage users, ask for the first administrator (recorded,
        then logged in). False if the dialog was cancelled."""
        if not await worker.call(users.needs_admin):
            return True
        role = next(
            name for name, perms in self.sessions.security.matrix().items()
            if Permission.MANAGE_USERS in perms
        )  # fmt: skip

        async def create(user_id: str, full_name: str, password: str) -> None:
            user = await worker.call(
                users.add, user_id, full_name, role, password, must_change=False,
                by=self.sessions.change_by("first start"),
            )  # fmt: skip
            await self.sessions.login(user.user_id, password)

        dialog = FirstAdminDialog(self.sessions.security.password, create, parent=None)
        answered: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def finished(code: int) -> None:
            if not answered.done():
                answered.set_result(code)

        dialog.finished.connect(finished)
        self.dialog = dialog
        dialog.open()
        try:
            return int(await answered) == QDialog.DialogCode.Accepted.value
        finally:
            self.dialog = None
            dialog.deleteLater()
