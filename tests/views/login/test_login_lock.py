"""The inactivity lock, driven by the session's clock: input keeps the session alive, idling
past ``security.session_lock_minutes`` covers the window with the lock screen, only the same
user's password unlocks it, and another user may log in instead (ending the first session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.audit.record import AuditAction
from hmi.runtime.commands import Outcome
from hmi.storage.users import SIGN_IN_REFUSED
from hmi.views.login.session import IDLE_CHECK_MS
from tests.views.audit_station import (
    PASSWORD,
    Clock,
    artifact,
    finished,
    login,
    records,
    start_station,
    stop_station,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def station(
    qtbot: QtBot, qloop: Any, themed: None, tmp_path: Path, clock: Clock
) -> Iterator[Station]:
    station = start_station(qtbot, tmp_path / "project", clock)
    station.window.resize(1280, 720)
    station.window.show()
    qtbot.waitExposed(station.window)
    yield station
    stop_station(qtbot, station)


def unlock_with(qtbot: QtBot, station: Station, password: str, user: str = "") -> None:
    lock = station.session_ui.lock_screen
    if user:
        qtbot.mouseClick(lock.switch_button, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(lock.user_edit, user)
    lock.password_edit.clear()
    qtbot.keyClicks(lock.password_edit, password)
    qtbot.mouseClick(lock.unlock_button, Qt.MouseButton.LeftButton)


def test_input_keeps_the_session_and_idling_locks_it(
    qtbot: QtBot, station: Station, clock: Clock
) -> None:
    sessions, lock = station.sessions, station.session_ui.lock_screen
    login(qtbot, station, "olga")
    clock.now += 240
    # any input counts as activity; given as the platform gives it, to the window
    qtbot.keyClick(station.window.windowHandle(), Qt.Key.Key_Shift)
    assert sessions.idle_for() == 0
    clock.now += 240
    qtbot.wait(1200)  # a check of the idle timer: 4 minutes are not 5
    assert not lock.isVisible()

    clock.now += 61
    qtbot.waitUntil(lock.isVisible, timeout=3000)
    session = sessions.current
    assert session is not None and session.locked
    assert lock.geometry() == station.window.rect()  # covers screens, navigation, status bar
    station.window.resize(1500, 860)  # and goes on covering it
    qtbot.waitUntil(lambda: lock.geometry() == station.window.rect())
    assert lock.width() == 1500
    assert "Olga Operator (olga, operator)" in lock.who.text()
    assert station.window.status.user_label.text() == "Olga Operator (operator), locked"
    denied = finished(qtbot, station.bridge.submit_write("SP.Free", 11.0))
    assert denied.outcome is Outcome.DENIED and "the station is locked" in denied.message
    station.window.grab().save(artifact("audit_lock.png"))

    unlock_with(qtbot, station, "not my password")
    qtbot.waitUntil(lock.error_label.isVisible)
    assert lock.error_label.text() == SIGN_IN_REFUSED and lock.isVisible()
    unlock_with(qtbot, station, PASSWORD)
    qtbot.waitUntil(lambda: not lock.isVisible())
    assert sessions.current is not None and not sessions.current.locked
    assert finished(qtbot, station.bridge.submit_write("SP.Free", 12.0)).ok

    found = [(r.action, r.user_id, r.reason, r.origin) for r in records(station)]
    assert found[-5:-1] == [
        (AuditAction.SESSION_LOCK, "olga", "idle for 5 min", ""),
        (AuditAction.WRITE, "olga", "", ""),  # the denied write
        (AuditAction.LOGIN_FAILED, "olga", "", "unlock"),
        (AuditAction.SESSION_UNLOCK, "olga", "", ""),
    ]


def test_another_user_logs_in_at_the_lock_screen(qtbot: QtBot, station: Station) -> None:
    login(qtbot, station, "olga")
    station.session_ui.lock()  # the user button's "Lock the station"
    lock = station.session_ui.lock_screen
    qtbot.waitUntil(lock.isVisible)
    unlock_with(qtbot, station, PASSWORD, user="sam")
    qtbot.waitUntil(lambda: station.sessions.current is not None and not lock.busy)
    assert not lock.isVisible()
    session = station.sessions.current
    assert session is not None and session.user.user_id == "sam" and not session.locked
    assert station.window.audit_button.isEnabled()  # a supervisor may view the trail
    found = [(r.action, r.user_id, r.reason) for r in records(station)]
    assert found[-3:] == [
        (AuditAction.SESSION_LOCK, "olga", "locked by the user"),
        (AuditAction.LOGOUT, "olga", "sam logged in"),
        (AuditAction.LOGIN, "sam", ""),
    ]


def test_a_lock_cancels_an_open_confirmation(qtbot: QtBot, station: Station) -> None:
    login(qtbot, station, "olga")
    task = station.bridge.submit_write("SP.Confirm", 55.0, origin="test")
    confirmer = station.guard.confirmer
    qtbot.waitUntil(lambda: bool(confirmer.open_dialogs))  # type: ignore[union-attr]
    station.session_ui.lock()
    result = finished(qtbot, task)
    assert result.outcome is Outcome.CANCELLED
    assert station.broker.latest("SP.Confirm").value == 50.0


def test_input_anywhere_on_the_station_is_activity(
    qtbot: QtBot, station: Station, clock: Clock
) -> None:
    """A click on a button inside the window, a key in a dialog's own window and a wheel turn
    each keep the session alive: the platform delivers them all to a window first."""
    sessions = station.sessions
    login(qtbot, station, "olga")
    window = station.window.windowHandle()
    button = station.window.audit_button
    clock.now += 60
    assert sessions.idle_for() == 60
    centre = button.mapTo(station.window, button.rect().center())
    qtbot.mouseClick(window, Qt.MouseButton.LeftButton, pos=centre)
    assert sessions.idle_for() == 0

    dialog = station.session_ui.show_password()
    assert dialog is not None
    handle = dialog.windowHandle()
    assert handle is not None and handle is not window
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is handle)  # where keys go
    clock.now += 60
    qtbot.keyClick(handle, Qt.Key.Key_A)
    assert sessions.idle_for() == 0
    dialog.close()

    aside = QWidget(None, Qt.WindowType.ToolTip)  # shown without taking the focus...
    qtbot.addWidget(aside)
    aside.resize(200, 100)
    aside.show()
    qtbot.waitExposed(aside)
    assert QGuiApplication.focusWindow() is not aside.windowHandle()
    qtbot.wait(IDLE_CHECK_MS + 200)  # ...it is watched from the next idle check
    clock.now += 60
    qtbot.mouseClick(aside.windowHandle(), Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
    assert sessions.idle_for() == 0

    clock.now += 60
    QTest.mouseMove(window, QPoint(5, 5))
    assert sessions.idle_for() == 0
    clock.now += 60
    qtbot.keyClick(window, Qt.Key.Key_Shift)
    assert sessions.idle_for() == 0
