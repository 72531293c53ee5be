"""SetpointWidget: entries are checked before anything is sent."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt

from hmi.model.quality import Quality, QualityReason
from hmi.model.screens.schema import SetpointSpec
from hmi.runtime.commands import Outcome
from hmi.widgets.setpoint import SetpointWidget

from .conftest import Station


def setpoint(station: Station, qtbot, tag: str = "Tank1.Setpoint") -> SetpointWidget:
    spec = SetpointSpec(type="setpoint", id="sp", tag=tag, rect=(0, 0, 200, 34))
    widget = SetpointWidget(spec, station.ctx)
    qtbot.addWidget(widget)
    widget.resize(200, 34)
    widget.show()
    return widget


def type_entry(qtbot, widget: SetpointWidget, text: str) -> None:
    widget.field.selectAll()
    qtbot.keyClicks(widget.field, text)


def test_shows_the_value_and_the_write_limits(station: Station, qtbot) -> None:
    widget = setpoint(station, qtbot)
    assert not widget.isEnabled(), "disabled until data arrives"
    assert widget.field.text() == "----"
    station.feed("Tank1.Setpoint", 4.0)
    assert widget.isEnabled()
    assert widget.field.text() == "4.0"
    assert widget.units.text() == "m"
    assert widget.field.placeholderText() == "1 – 9 m"
    assert "Write limits: 1 – 9 m" in widget.field.toolTip()


def test_valid_entry_is_sent_with_enter(station: Station, qtbot, loop) -> None:
    widget = setpoint(station, qtbot)
    station.feed("Tank1.Setpoint", 4.0)
    type_entry(qtbot, widget, "6.5")
    assert widget.entry == "editing"
    station.feed("Tank1.Setpoint", 4.0)
    assert widget.field.text() == "6.5", "updates do not overwrite the operator's entry"
    qtbot.keyClick(widget.field, Qt.Key.Key_Return)
    assert widget.last_write is not None
    result = loop.run_until_complete(widget.last_write)
    assert result.outcome is Outcome.DONE
    assert result.request.origin == "test/sp"
    assert station.driver_value("Tank1.Setpoint") == 6.5
    assert widget.entry == "idle"
    station.bridge.flush()
    assert widget.field.text() == "6.5"


def test_out_of_limits_entry_is_refused_in_place(station: Station, qtbot, loop) -> None:
    widget = setpoint(station, qtbot)
    station.feed("Tank1.Setpoint", 4.0)
    type_entry(qtbot, widget, "12")
    qtbot.mouseClick(widget.set_button, Qt.MouseButton.LeftButton)
    assert widget.last_write is None, "nothing was sent"
    assert widget.entry == "refused"
    assert "above the write limit 9.0 m" in widget.refusal
    assert widget.field.toolTip() == widget.refusal
    assert widget.field.text() == "12", "the entry stays for the operator to correct"
    assert station.driver_value("Tank1.Setpoint") == 0.0
    type_entry(qtbot, widget, "0.5")
    assert widget.entry == "editing" and widget.refusal == ""
    assert not widget.submit()
    assert "below the write limit 1.0 m" in widget.refusal


def test_non_numeric_entry_is_refused(station: Station, qtbot, loop) -> None:
    widget = setpoint(station, qtbot)
    station.feed("Tank1.Setpoint", 4.0)
    type_entry(qtbot, widget, "abc")
    qtbot.keyClick(widget.field, Qt.Key.Key_Return)
    assert widget.last_write is None
    assert widget.entry == "refused"
    assert "is not a valid float" in widget.refusal
    assert not asyncio.all_tasks(loop)


def test_escape_reverts_to_the_live_value(station: Station, qtbot) -> None:
    widget = setpoint(station, qtbot)
    station.feed("Tank1.Setpoint", 4.0)
    type_entry(qtbot, widget, "99")
    widget.submit()
    qtbot.keyClick(widget.field, Qt.Key.Key_Escape)
    assert widget.entry == "idle"
    assert widget.refusal == ""
    assert widget.field.text() == "4.0"


def test_disabled_while_bad_and_entry_dropped(station: Station, qtbot) -> None:
    widget = setpoint(station, qtbot)
    station.feed("Tank1.Setpoint", 4.0)
    type_entry(qtbot, widget, "5")
    station.feed("Tank1.Setpoint", 4.0, Quality.bad(QualityReason.COMM_FAILURE))
    assert not widget.isEnabled()
    assert widget.entry == "idle"
    assert widget.field.text() == "4.0", "the last value stays visible"
    assert widget.property("quality") == "bad"
    assert not widget.submit()


def test_read_only_tag_is_never_enabled(station: Station, qtbot) -> None:
    widget = setpoint(station, qtbot, tag="Tank1.Level")
    station.feed("Tank1.Level", 4.0)
    assert not widget.isEnabled()
    assert widget.field.placeholderText() == "read-only"
    widget.release()
    assert station.broker.subscribers("Tank1.Level") == 0
