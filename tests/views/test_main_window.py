"""The window's chrome: header with the alarm banner slot, status bar with user, connection
health (object names the theme colours) and a running clock."""

from __future__ import annotations

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
    assert window.windowTitle() == "Riverside Water Works — Plant overview"


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
