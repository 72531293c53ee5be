"""The window's chrome: header with the alarm banner slot, status bar with user, connection
health (object names the theme colours) and a running clock."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.drivers.base import ConnectionHealth, ConnectionState


def test_header(station: Station) -> None:
    window = station.window
    assert window.header.objectName() == "Header"
    assert window.alarm_banner.objectName() == "AlarmBanner"
    assert window.alarm_placeholder.text() == "No active alarms"
    assert window.project_label.text() == "Riverside Water Works"
    assert window.title_label.text() == "Plant overview"
    assert window.windowTitle() == "Plant overview — Riverside Water Works"


def test_the_window_title_names_the_project_once(station: Station) -> None:
    """``hmi run`` sets the project as the application's display name, which Qt appends to a
    window title unless the title already ends with it: the title ends with it, once."""
    app = QGuiApplication.instance()
    assert isinstance(app, QGuiApplication)
    before = app.applicationDisplayName()
    app.setApplicationDisplayName("Riverside Water Works")
    try:
        window = station.window
        for screen_id in ("tank_farm", "diagnostics"):
            assert window.navigate(screen_id)
            title = window.windowTitle()
            assert title.endswith(" — " + app.applicationDisplayName())
            assert title.count("Riverside Water Works") == 1
            assert "Demo plant" not in title  # the site is not repeated
        assert window.windowTitle() == "Diagnostics — Riverside Water Works"
    finally:
        app.setApplicationDisplayName(before)


def fill(button: QPushButton) -> str:
    """The colour of a button's face (left of its text, inside the border)."""
    return button.grab().toImage().pixelColor(4, button.height() // 2).name()


def test_header_buttons_are_the_chrome_grey(
    qtbot: QtBot, station: Station, artifacts: Path
) -> None:
    """ISA-101: the header's buttons are grey like the rest of the chrome, not the platform's
    white, and show pressed and disabled; a click leaves no focus frame on them."""
    window = station.window
    window.resize(1920, 1080)
    window.show()
    qtbot.waitExposed(window)
    direct = Qt.FindChildOption.FindDirectChildrenOnly
    buttons = window.header.findChildren(QPushButton, options=direct)
    assert [b.text() for b in buttons] == ["Trend…", "Alarm history", "Alarm KPIs", "Audit trail"]
    assert not window.audit_button.isEnabled()  # an operator may not view the trail
    for button in buttons:
        assert fill(button) == ("#c9c9c9" if button.isEnabled() else "#cecece"), button.text()
        assert button.focusPolicy() == Qt.FocusPolicy.TabFocus
        assert not button.hasFocus()
    window.trend_button.setDown(True)
    assert fill(window.trend_button) == "#a8a8a8"
    window.trend_button.setDown(False)
    assert window.header.grab().save(str(artifacts / "header.png"))


def test_connection_health_in_the_status_bar(qtbot: QtBot, station: Station) -> None:
    status = station.window.status
    assert status.objectName() == "StatusBar"
    assert status.user_label.text() == "Operator Tester (operator)"  # the fixture logs in
    assert set(status.connections) == {"opcua://plant_ua", "modbus://plant_mb"}
    key = "opcua://plant_ua"
    sim = status.connections[key]
    qtbot.waitUntil(lambda: sim.objectName() == "ConnectionOk")
    assert sim.text() == f"{key}: connected"

    station.broker.report_health(ConnectionHealth(key, ConnectionState.DISCONNECTED, "test"))
    assert sim.objectName() == "ConnectionBad"
    assert sim.text() == f"{key}: disconnected"
    assert sim.property("state") == "disconnected"
    station.broker.report_health(ConnectionHealth(key, ConnectionState.CONNECTED))
    assert sim.objectName() == "ConnectionOk"


def test_clock_ticks(qtbot: QtBot, station: Station) -> None:
    clock = station.window.status.clock
    assert clock.objectName() == "Clock"
    first = clock.text()
    qtbot.waitUntil(lambda: clock.text() != first, timeout=3000)


def test_the_header_opens_an_adhoc_trend_and_the_alarm_journal_views(
    qtbot: QtBot, station: Station
) -> None:
    window = station.window
    trend = window.open_adhoc_trend()
    history = window.open_alarm_history()
    kpis = window.open_alarm_kpis()
    assert trend.isVisible() and history is not None and kpis is not None
    assert len(window.tools) == 3
    trend.close()
    qtbot.waitUntil(lambda: len(window.tools) == 2)
