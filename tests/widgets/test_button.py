"""ButtonWidget: writes through the command service, disabled while the tag is Bad."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt

from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import ButtonSpec, Look
from hmi.runtime.commands import Outcome
from hmi.widgets.button import ButtonWidget
from hmi.widgets.theme import chrome
from tests.qt_probes import python_calls

from .conftest import Station


def button(station: Station, qtbot, action: dict, widget_id: str = "btn") -> ButtonWidget:
    spec = ButtonSpec(type="button", id=widget_id, text="Go", rect=(0, 0, 90, 30), action=action)
    widget = ButtonWidget(spec, station.ctx)
    qtbot.addWidget(widget)
    widget.resize(90, 30)
    widget.show()
    return widget


def finish(loop: asyncio.AbstractEventLoop, widget: ButtonWidget):
    assert widget.last_write is not None, "a write was submitted"
    result = loop.run_until_complete(widget.last_write)
    return result


def test_write_button_is_disabled_until_good_data(station: Station, qtbot, loop) -> None:
    widget = button(station, qtbot, {"kind": "set", "tag": "Pump1.Start", "value": True})
    assert not widget.isEnabled(), "no data yet"
    assert widget.property("quality") == "disconnected"
    station.feed("Pump1.Start", False)
    assert widget.isEnabled()
    station.feed("Pump1.Start", False, Quality.uncertain(QualityReason.STALE))
    assert widget.isEnabled(), "uncertain data still allows a command"
    station.feed("Pump1.Start", False, Quality.bad(QualityReason.COMM_FAILURE))
    assert not widget.isEnabled()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    assert widget.last_write is None, "a disabled button sends nothing"


def test_set_writes_through_the_command_service_with_origin(station: Station, qtbot, loop) -> None:
    widget = button(station, qtbot, {"kind": "set", "tag": "Pump1.Start", "value": True}, "start")
    station.feed("Pump1.Start", False)
    results = []
    station.bridge.command_finished.connect(results.append)
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    result = finish(loop, widget)
    assert result.outcome is Outcome.DONE
    assert result.request.origin == "test/start"
    assert station.driver_value("Pump1.Start") is True
    assert results == [result]


def test_toggle_writes_the_inverse_and_shows_active(station: Station, qtbot, loop) -> None:
    widget = button(station, qtbot, {"kind": "toggle", "tag": "Pump1.Start"})
    station.feed("Pump1.Start", True)
    assert widget.property("look") == Look.ACTIVE.value
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    assert finish(loop, widget).written is False
    station.bridge.flush()
    assert widget.property("look") == Look.NORMAL.value


def test_momentary_writes_value_on_press_and_release_on_release(
    station: Station, qtbot, loop
) -> None:
    widget = button(
        station, qtbot, {"kind": "momentary", "tag": "Pump1.Mode", "value": 3, "release": 0}
    )
    station.feed("Pump1.Mode", 0)
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton)
    assert widget.held
    assert finish(loop, widget).written == 3
    assert station.driver_value("Pump1.Mode") == 3
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton)
    assert not widget.held
    assert finish(loop, widget).written == 0


def test_momentary_released_when_data_turns_bad_while_held(station: Station, qtbot, loop) -> None:
    widget = button(station, qtbot, {"kind": "momentary", "tag": "Pump1.Mode", "value": 2})
    station.feed("Pump1.Mode", 0)
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton)
    finish(loop, widget)
    station.feed("Pump1.Mode", 2, Quality.bad(QualityReason.COMM_FAILURE))
    assert not widget.held
    assert finish(loop, widget).request.value == 0


def test_navigate_and_faceplate(station: Station, qtbot) -> None:
    nav = button(station, qtbot, {"kind": "navigate", "screen": "tanks"})
    plate = button(
        station, qtbot, {"kind": "faceplate", "template": "pump", "params": {"id": "P1"}}
    )
    assert nav.isEnabled() and plate.isEnabled() and not nav.writes
    qtbot.mouseClick(nav, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(plate, Qt.MouseButton.LeftButton)
    assert station.navigated == ["tanks"]
    assert station.faceplates == [("pump", {"id": "P1"})]


def test_release_unbinds(station: Station, qtbot) -> None:
    widget = button(station, qtbot, {"kind": "toggle", "tag": "Pump1.Start"})
    assert station.broker.subscribers("Pump1.Start") == 1
    widget.release()
    widget.release()
    assert station.broker.subscribers("Pump1.Start") == 0


def test_the_slots_every_widget_connects_are_class_slots() -> None:
    """Connected once per widget as a screen is built: as a plain method each connect costs
    PySide three times as much (86k instructions against 27k, a dynamic slot per object)."""
    from hmi.widgets.base import TagBinding
    from hmi.widgets.button import ButtonWidget

    for cls, names in (
        (ButtonWidget, ("_on_clicked()", "_on_pressed()", "_on_released()")),
        (TagBinding, ("_on_access()",)),
    ):
        meta = cls.staticMetaObject
        for name in names:
            assert meta.indexOfSlot(name) >= 0, f"{cls.__name__}.{name} is no @Slot"


def test_held_down_it_shows_the_pressed_colour_and_no_python_runs(
    station: Station, qtbot, themed
) -> None:
    """The pressed colour is every dress's button colour, which the style fills a held
    button's panel with: a press and a release change no dress, connect nothing, run no
    Python of the button's; let go, the button looks as before."""
    widget = button(station, qtbot, {"kind": "navigate", "screen": "tanks"})
    colors = chrome.colors()
    assert colors is not None
    worn = widget.__dict__["_hmi_dress"]
    before = widget.grab().toImage()
    with python_calls(ButtonWidget.redress) as runs:
        widget.setDown(True)
        widget.pressed.emit()
        held = widget.grab().toImage()
        widget.setDown(False)
        widget.released.emit()
        after = widget.grab().toImage()
    assert runs == [] and widget.__dict__["_hmi_dress"] == worn
    assert before.pixelColor(8, 15) == colors["buttonFill"]
    pressed = colors["buttonPressed"]
    panel = held.pixelColor(8, 15)  # the style shades its panel from the pressed colour
    assert panel.lightness() <= pressed.lightness() < colors["buttonFill"].lightness()
    assert abs(panel.lightness() - pressed.lightness()) < 20, "the pressed panel"
    assert after == before
