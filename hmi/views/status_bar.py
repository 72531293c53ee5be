"""The station's status bar: who is logged in (a button: log in, log out, lock, change
password), the result of the last command, a warning while audit records spool on this
station, the health of every connection and a clock. Colours come from the style sheet (object
names and the ``state``/``outcome`` properties), not from code."""

from __future__ import annotations

import time
from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMenu, QSizePolicy, QStatusBar, QToolButton, QWidget

from hmi.drivers.base import ConnectionHealth, ConnectionState
from hmi.runtime.commands import CommandResult
from hmi.runtime.forwarding import ForwardStatus
from hmi.storage.trail import TrailStatus
from hmi.views.station_diagnostics import (
    StationDiagnostics,
    connection_row,
    forwarding_row,
    trail_row,
)

__all__ = ["StationStatusBar"]

SUCCESS_SHOWN_MS = 6000
FAILURE_SHOWN_MS = 60000  # long enough to be read; replaced by the next command's result

_STATE_TEXT = {
    ConnectionState.CONNECTING: "connecting",
    ConnectionState.CONNECTED: "connected",
    ConnectionState.DISCONNECTED: "disconnected",
    ConnectionState.FAILED: "failed",
    ConnectionState.STOPPED: "stopped",
}


def _restyle(widget: QWidget) -> None:
    """Re-apply the style sheet after an object name or property it selects on changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


def describe(result: CommandResult) -> str:
    """One line an operator reads: what was asked, and what happened."""
    request = result.request
    if result.ok:
        return f"{request.tag} set to {result.written!r}"
    return f"{request.tag} := {request.value!r} {result.outcome.value}: {result.message}"


class StationStatusBar(QStatusBar):
    # the user button's menu; the session controller (hmi.views.login.session) acts on them
    login_requested = Signal()
    logout_requested = Signal()
    lock_requested = Signal()
    password_requested = Signal()
    users_requested = Signal()
    diagnostics_requested = Signal()  # a click on a connection, the spool or the SIEM mark

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StatusBar")
        self.setSizeGripEnabled(False)
        self.user_label = QToolButton(self)
        self.user_label.setObjectName("User")
        self.user_label.setText("not logged in")
        self.user_label.setToolTip("log in")
        self.user_label.clicked.connect(self._on_user_clicked)
        self._user_menu = QMenu(self.user_label)
        self._user_menu.setObjectName("UserMenu")
        self.user_actions: dict[str, QAction] = {}
        for key, text, signal in (
            ("login", "Log in as another user…", self.login_requested),
            ("lock", "Lock the station", self.lock_requested),
            ("password", "Change my password…", self.password_requested),
            ("users", "Users…", self.users_requested),
            ("logout", "Log out", self.logout_requested),
        ):
            action = self._user_menu.addAction(text)
            action.triggered.connect(signal.emit)
            self.user_actions[key] = action
        self._logged_in = False
        self.diagnostics = StationDiagnostics(self)
        self.spool_label = QLabel("", self)
        self.spool_label.setObjectName("SpoolWarning")
        self.spool_label.hide()
        self.forwarding_label = QLabel("", self)
        self.forwarding_label.setObjectName("ConnectionOk")
        self.forwarding_label.hide()
        for mark in (self.spool_label, self.forwarding_label):
            mark.installEventFilter(self)
        self.command_label = QLabel("", self)
        self.command_label.setObjectName("CommandResult")
        # The message line takes the room that is left, never more: a long message is cut
        # (in full in its tooltip) instead of widening the window past the screen.
        self.command_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.clock = QLabel("", self)
        self.clock.setObjectName("Clock")
        self.connections: dict[str, QLabel] = {}
        self.addWidget(self.user_label)
        self.addWidget(self.command_label, 1)
        self.addPermanentWidget(self.forwarding_label)
        self.addPermanentWidget(self.spool_label)
        self.addPermanentWidget(self.clock)
        self._clock_timer = QTimer(self)
        self._clock_timer.setInterval(1000)
        self._clock_timer.timeout.connect(self._tick)
        self._clock_timer.start()
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(self.clear_command)
        self._tick()

    def add_mark(self, widget: QWidget) -> None:
        """A mark of the station's own (live reload's problems): after the connections, before
        the spool warning and the clock."""
        self.insertPermanentWidget(2, widget)  # index 2: right after the user and the command

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A click on a connection's, the spool's or the SIEM's mark opens the diagnostics."""
        if event.type() == QEvent.Type.MouseButtonRelease and isinstance(watched, QLabel):
            self.diagnostics_requested.emit()
            return True
        return super().eventFilter(watched, event)

    def _tick(self) -> None:
        self.clock.setText(time.strftime("%Y-%m-%d  %H:%M:%S"))

    # -- user and audit trail ------------------------------------------------------------------

    def show_user(
        self, text: str, *, logged_in: bool, locked: bool = False, manages_users: bool = False
    ) -> None:
        """Who is logged in ("Olga Operator (operator)"); a click logs in when nobody is,
        else opens the menu (log in as another user, lock, change password, log out)."""
        self._logged_in = logged_in
        self.user_label.setText(text)
        self.user_label.setProperty("session", "locked" if locked else "open" if logged_in else "")
        self.user_label.setToolTip("log in" if not logged_in else "log out, lock, password")
        for key in ("lock", "password", "logout"):
            self.user_actions[key].setVisible(logged_in)
        self.user_actions["users"].setVisible(logged_in and manages_users)
        _restyle(self.user_label)

    def _on_user_clicked(self) -> None:
        if not self._logged_in:
            self.login_requested.emit()
            return
        self._user_menu.popup(self.user_label.mapToGlobal(self.user_label.rect().topLeft()))

    @property
    def user_menu(self) -> QMenu:
        return self._user_menu

    def show_trail(self, status: TrailStatus) -> None:
        """A clear warning while audit records wait on this station (central database away),
        and while a spool that failed its check holds audited actions."""
        self.diagnostics.report("trail", trail_row(status))
        if status.hold:
            self.spool_label.setText(
                "AUDIT SPOOL REJECTED: actions refused until an administrator decides"
                if status.refusing
                else "AUDIT SPOOL REJECTED: kept as evidence, not forwarded"
            )
            self.spool_label.setToolTip(
                status.hold + "; an administrator decides with `hmi audit spool show` and "
                "`hmi audit spool release`"
            )
            self.spool_label.setVisible(True)
            return
        if status.blocked:
            self.spool_label.setText("AUDIT RECORDS CANNOT BE STORED: audited actions refused")
            self.spool_label.setToolTip(status.blocked)
            self.spool_label.setVisible(True)
            return
        if status.trust:
            self.spool_label.setText("AUDIT CHAIN BEHIND THIS STATION'S WITNESS: records missing")
            self.spool_label.setToolTip(
                status.trust + "; recorded as audit_chain_behind; tell the site's IT and "
                "auditors (docs/audit.md, 'Witnesses')"
            )
            self.spool_label.setVisible(True)
            return
        if status.spooling:
            why = "audit key refused" if status.key_refused else "central database unreachable"
            self.spool_label.setText(
                f"AUDIT SPOOLING: {why}, {status.pending} record(s) kept on this station"
            )
            self.spool_label.setToolTip(
                (status.detail or "the central audit database does not answer")
                + "; records are forwarded in order when it returns"
            )
        self.spool_label.setVisible(status.spooling)

    def show_forwarding(self, status: ForwardStatus) -> None:
        """Forwarding to the SIEM: connected (and the backlog while there is one), or failing
        with the reason; the tooltip holds the diagnostics (collector, cursor, last error)."""
        self.diagnostics.report("forwarding", forwarding_row(status))
        if status.failing:
            text = f"SIEM: failing, {status.backlog} event(s) waiting"
        elif status.state == "connected":
            text = "SIEM: connected" + (f", backlog {status.backlog}" if status.backlog else "")
        else:
            text = f"SIEM: {status.state}"
        self.forwarding_label.setText(text)
        delivered = status.delivered
        self.forwarding_label.setToolTip(
            f"{status.collector}: {status.state}; delivered up to audit #{delivered.audit}, "
            f"alarm event #{delivered.alarms}; {status.sent} message(s) sent"
            + (f"\nlast error: {status.last_error}" if status.last_error else "")
            + "\n(click: station diagnostics)"
        )
        name = "ConnectionBad" if status.failing else "ConnectionOk"
        if self.forwarding_label.objectName() != name:
            self.forwarding_label.setObjectName(name)
        self.forwarding_label.setProperty("state", "failed" if status.failing else "connected")
        _restyle(self.forwarding_label)
        self.forwarding_label.setVisible(True)

    # -- connections ---------------------------------------------------------------------------

    def set_connections(self, keys: Iterable[str]) -> None:
        """One label per connection, waiting for its first health report."""
        for key in keys:
            self.show_health(ConnectionHealth(key, ConnectionState.CONNECTING))

    def show_health(self, health: ConnectionHealth) -> None:
        self.diagnostics.report(f"connection:{health.key}", connection_row(health))
        label = self.connections.get(health.key)
        if label is None:
            label = QLabel(self)
            label.installEventFilter(self)
            self.connections[health.key] = label
            # after the two normal widgets and the other connections, before the clock
            self.insertPermanentWidget(1 + len(self.connections), label)
        label.setText(f"{health.key}: {_STATE_TEXT.get(health.state, health.state.value)}")
        label.setToolTip((health.detail or health.state.value) + "\n(click: station diagnostics)")
        label.setProperty("state", health.state.value)
        name = "ConnectionOk" if health.ok else "ConnectionBad"
        if label.objectName() != name:
            label.setObjectName(name)
        _restyle(label)

    # -- commands ------------------------------------------------------------------------------

    def show_command(self, result: CommandResult) -> None:
        """The result of an operator's write: failures stay up long enough to be read."""
        self.command_label.setText(describe(result))
        self.command_label.setToolTip(f"from {result.request.origin or '-'}: {result.message}")
        self.command_label.setProperty("outcome", result.outcome.value)
        _restyle(self.command_label)
        self._message_timer.start(SUCCESS_SHOWN_MS if result.ok else FAILURE_SHOWN_MS)

    def show_message(self, text: str, *, outcome: str = "info") -> None:
        self.command_label.setText(text)
        self.command_label.setToolTip(text)
        self.command_label.setProperty("outcome", outcome)
        _restyle(self.command_label)
        self._message_timer.start(FAILURE_SHOWN_MS)

    def clear_command(self) -> None:
        self.command_label.setText("")
        self.command_label.setProperty("outcome", "")
        _restyle(self.command_label)
