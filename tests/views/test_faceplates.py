"""Faceplates: opened from buttons on level-2 screens, one per (template, params), raised when
opened again, released on close; writes from them end in the status bar."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.widgets.value import ValueWidget

PID = ("pid_faceplate", {"loop": "LIC101"})


def click(qtbot: QtBot, widget: object) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)  # type: ignore[arg-type]


def shown_canvas(qtbot: QtBot, station: Station, screen_id: str):
    window = station.window
    window.show()
    assert window.navigate(screen_id)
    canvas = window.canvas
    assert canvas is not None
    qtbot.waitUntil(lambda: canvas.isVisible() and canvas.scale > 0)
    return canvas


def test_open_raise_close_releases_bindings(qtbot: QtBot, station: Station) -> None:
    broker = station.broker
    canvas = shown_canvas(qtbot, station, "tank_farm")
    before = broker.subscribers("LIC101.ManOut")  # only on the faceplate
    assert before == 0
    sp_before = broker.subscribers("LIC101.SP")

    click(qtbot, canvas.widget("fp_lic101"))
    popup = station.window.faceplates.get(*PID)
    assert popup is not None
    qtbot.waitExposed(popup)
    assert popup.windowTitle() == "Controller LIC101"
    assert popup.windowFlags() & Qt.WindowType.Tool
    assert not popup.isModal()
    assert broker.subscribers("LIC101.ManOut") == 1
    assert broker.subscribers("LIC101.SP") > sp_before

    click(qtbot, canvas.widget("fp_lic101"))  # again: the same popup, raised
    assert station.window.faceplates.windows == [popup]
    assert broker.subscribers("LIC101.ManOut") == 1

    popup.close()
    assert station.window.faceplates.get(*PID) is None
    assert broker.subscribers("LIC101.ManOut") == 0
    assert broker.subscribers("LIC101.SP") == sp_before


def test_escape_closes_and_releases(qtbot: QtBot, station: Station) -> None:
    station.window.show()
    station.window.open_faceplate(*PID)
    popup = station.window.faceplates.get(*PID)
    assert popup is not None
    qtbot.waitExposed(popup)
    qtbot.keyClick(popup, Qt.Key.Key_Escape)
    assert station.window.faceplates.get(*PID) is None
    assert station.broker.subscribers("LIC101.ManOut") == 0


def test_pump_tiles_open_their_own_faceplates(qtbot: QtBot, station: Station) -> None:
    canvas = shown_canvas(qtbot, station, "pump_station")
    click(qtbot, canvas.widget("p101/faceplate"))
    click(qtbot, canvas.widget("p102/faceplate"))
    faceplates = station.window.faceplates
    p101 = faceplates.get("pump_faceplate", {"pump": "P101"})
    p102 = faceplates.get("pump_faceplate", {"pump": "P102"})
    assert p101 is not None and p102 is not None and p101 is not p102
    assert p102.windowTitle() == "Transfer pump P102"
    current = p102.canvas.widget("current")
    assert isinstance(current, ValueWidget)
    assert current.binding.tag == "P102.Current"
    faceplates.close_all()
    assert faceplates.windows == []


def test_visible_expression_and_write_result(qtbot: QtBot, station: Station) -> None:
    """MAN shows the manual output entry (``visible: LIC101.Mode == 0``); the write's result
    is shown in the status bar."""
    station.window.show()
    station.window.open_faceplate(*PID)
    popup = station.window.faceplates.get(*PID)
    assert popup is not None
    manual = popup.canvas.widget("manual_output")
    assert manual is not None
    qtbot.waitExposed(popup)
    qtbot.waitUntil(manual.isHidden)  # AUTO, once the mode has arrived

    click(qtbot, popup.canvas.widget("manual"))
    qtbot.waitUntil(lambda: not manual.isHidden(), timeout=3000)
    status = station.window.status.command_label
    qtbot.waitUntil(lambda: "LIC101.Mode" in status.text())
    assert status.property("outcome") == "done"

    click(qtbot, popup.canvas.widget("auto"))
    qtbot.waitUntil(manual.isHidden, timeout=3000)


def test_refused_write_is_shown_to_the_operator(qtbot: QtBot, station: Station) -> None:
    station.window.show()
    station.window.bridge.submit_write("LIC101.SP", 95.0, origin="test")
    status = station.window.status.command_label
    qtbot.waitUntil(lambda: status.property("outcome") == "denied")
    assert "above the write limit 90" in status.text()
    assert status.isVisible()


def test_start_from_the_faceplate_reaches_the_tile(qtbot: QtBot, station: Station) -> None:
    """Start on P102's faceplate goes through the command service to the local driver; the
    running state comes back to the pump station's tile (the demo's feedback follows the
    command)."""
    canvas = shown_canvas(qtbot, station, "pump_station")
    state = canvas.widget("p102/state")
    assert state is not None
    qtbot.waitUntil(lambda: state.text() == "STOPPED")
    click(qtbot, canvas.widget("p102/faceplate"))
    popup = station.window.faceplates.get("pump_faceplate", {"pump": "P102"})
    assert popup is not None
    start = popup.canvas.widget("start")
    qtbot.waitUntil(start.isEnabled)  # write buttons wait for a trusted value
    click(qtbot, start)
    qtbot.waitUntil(lambda: state.text() == "RUNNING", timeout=3000)
    assert state.property("look") == "active"
    assert "P102.RunCmd set to True" in station.window.status.command_label.text()
