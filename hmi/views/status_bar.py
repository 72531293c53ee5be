"""The station's status bar: who is logged in, the result of the last command, the health of
every connection and a clock. Colours come from the style sheet (object names and the
``state``/``outcome`` properties), not from code."""

from __future__ import annotations

import time
from collections.abc import Iterable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from hmi.drivers.base import ConnectionHealth, ConnectionState
from hmi.runtime.commands import CommandResult

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
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("StatusBar")
        self.setSizeGripEnabled(False)
        self.user_label = QLabel("not logged in", self)
        self.user_label.setObjectName("User")
        self.command_label = QLabel("", self)
        self.command_label.setObjectName("CommandResult")
        self.clock = QLabel("", self)
        self.clock.setObjectName("Clock")
        self.connections: dict[str, QLabel] = {}
        self.addWidget(self.user_label)
        self.addWidget(self.command_label, 1)
        self.addPermanentWidget(self.clock)
        self._clock_timer = QTimer(self)
        self._clock_timer.setInterval(1000)
        self._clock_timer.timeout.connect(self._tick)
        self._clock_timer.start()
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(self.clear_command)
        self._tick()

    def _tick(self) -> None:
        self.clock.setText(time.strftime("%Y-%m-%d  %H:%M:%S"))

    # -- connections ---------------------------------------------------------------------------

    def set_connections(self, keys: Iterable[str]) -> None:
        """One label per connection, waiting for its first health report."""
        for key in keys:
            self.show_health(ConnectionHealth(key, ConnectionState.CONNECTING))

    def show_health(self, health: ConnectionHealth) -> None:
        label = self.connections.get(health.key)
        if label is None:
            label = QLabel(self)
            self.connections[health.key] = label
            # after the two normal widgets and the other connections, before the clock
            self.insertPermanentWidget(1 + len(self.connections), label)
        label.setText(f"{health.key}: {_STATE_TEXT.get(health.state, health.state.value)}")
        label.setToolTip(health.detail or health.state.value)
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
        self.command_label.setProperty("outcome", outcome)
        _restyle(self.command_label)
        self._message_timer.start(FAILURE_SHOWN_MS)

    def clear_command(self) -> None:
        self.command_label.setText("")
        self.command_label.setProperty("outcome", "")
        _restyle(self.command_label)
