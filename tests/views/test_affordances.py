"""Affordances on the demo station: what the logged-in role may not use is disabled before
anything is typed, its tooltip saying why, and follows every login, logout and lock; a value
the user may change looks it and opens its entry when clicked."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.audit.record import AuditAction
from hmi.views.screen_canvas import ScreenCanvas
from hmi.widgets.button import ButtonWidget
from hmi.widgets.setpoint import SetpointWidget
from hmi.widgets.value import ValueEntry, ValueWidget
from tests.views.audit_station import records
from tests.views.conftest import TEST_PASSWORD, _run_async, log_in

LIVE_MS = 20000


def shown(qtbot: QtBot, station: Station, screen_id: str) -> ScreenCanvas:
    station.window.show()
    assert station.window.navigate(screen_id)
    canvas = station.window.canvas
    assert canvas is not None
    qtbot.waitUntil(lambda: canvas.isVisible() and canvas.scale > 0)
    return canvas


def button(canvas: ScreenCanvas, widget_id: str) -> ButtonWidget:
    widget = canvas.widget(widget_id)
    assert isinstance(widget, ButtonWidget)
    return widget


def first_line(widget: ButtonWidget | ValueWidget) -> str:
    binding = widget.binding
    assert binding is not None
    return binding.tooltip_text().splitlines()[0]


def test_buttons_follow_the_role_and_say_why(qtbot: QtBot, station: Station) -> None:
    """An operator: the fault-injection buttons (engineer, admin) and the dry-run trip level
    are disabled and say so; the pumps' Start is enabled. An engineer: all enabled. Locked or
    logged out: disabled again, saying why."""
    canvas = shown(qtbot, station, "diagnostics")
    trip = button(canvas, "trip_p101")
    qtbot.waitUntil(lambda: trip.binding is not None and trip.binding.usable, timeout=LIVE_MS)
    assert not trip.isEnabled()
    assert first_line(trip) == (
        "Not available: Faults.P101Trip may be written only by engineer, admin; "
        "you are logged in as operator"
    )
    qtbot.mouseClick(trip, Qt.MouseButton.LeftButton)
    assert trip.last_write is None and station.bridge.pending_writes == 0

    station.window.open_faceplate("pump_faceplate", {"pump": "P102"})
    popup = station.window.faceplates.get("pump_faceplate", {"pump": "P102"})
    assert popup is not None
    start = popup.canvas.widget("start")
    dry_run = popup.canvas.widget("dry_run")
    assert isinstance(start, ButtonWidget) and isinstance(dry_run, SetpointWidget)
    qtbot.waitUntil(start.isEnabled, timeout=LIVE_MS)
    assert not dry_run.isEnabled()  # engineers and admins only
    assert dry_run.field.toolTip().startswith("Not available: Pumps.DryRunLevel may be written")

    _run_async(qtbot, station.sessions.logout())
    log_in(qtbot, station, "engineer")
    qtbot.waitUntil(lambda: trip.isEnabled() and start.isEnabled() and dry_run.isEnabled())
    assert first_line(trip).startswith("Trips P101 at once")  # the screen's own tooltip

    _run_async(qtbot, station.sessions.lock())  # faceplates close; the screen stays
    qtbot.waitUntil(lambda: not trip.isEnabled())
    assert first_line(trip) == (
        "Not available: The station is locked: unlock it to write Faults.P101Trip"
    )
    _run_async(qtbot, station.sessions.unlock(TEST_PASSWORD))
    qtbot.waitUntil(trip.isEnabled)
    _run_async(qtbot, station.sessions.logout())
    qtbot.waitUntil(lambda: not trip.isEnabled())
    assert first_line(trip).startswith("Not available: Log in first: Faults.P101Trip may be")


def test_alarm_actions_follow_the_role(qtbot: QtBot, station: Station) -> None:
    """The alarm summary opened by an operator: Shelve… and Out of service… are disabled with
    the permission they need; after a supervisor logs in they are not refused any more."""
    station.window.show()
    station.window.show_alarm_summary()
    summary = station.window.alarm_summary
    assert summary is not None
    for key in ("shelve", "service"):
        assert not summary.buttons[key].isEnabled()
        assert "shelve alarm permission" in summary.buttons[key].toolTip()
    _run_async(qtbot, station.sessions.logout())
    log_in(qtbot, station, "supervisor")
    qtbot.waitUntil(lambda: summary.buttons["shelve"].toolTip() == "")
    assert summary.buttons["ack"].toolTip() == ""


def test_a_writable_value_looks_it_and_opens_its_entry(
    qtbot: QtBot, station: Station, plant_baseline: None
) -> None:
    """The tank farm's LIC101 setpoint value is marked writable (the theme's cue), a
    read-only value is not; a click opens the entry, Enter in it writes the setpoint once,
    from the value's origin. A viewer gets no cue, and the click opens nothing."""
    canvas = shown(qtbot, station, "tank_farm")
    values = [w for w in canvas.widgets() if isinstance(w, ValueWidget)]
    setpoint = next(w for w in values if w.spec.tag == "LIC101.SP")
    level = next(w for w in values if w.spec.tag == "T2.Level")
    qtbot.waitUntil(lambda: setpoint.writable, timeout=LIVE_MS)
    assert setpoint.property("writable") == "true" and level.property("writable") == "false"
    assert setpoint.cursor().shape() == Qt.CursorShape.PointingHandCursor
    before = [r for r in records(station) if r.action is AuditAction.WRITE]

    qtbot.mouseClick(setpoint, Qt.MouseButton.LeftButton)
    entry = setpoint.entry
    assert isinstance(entry, ValueEntry) and entry.setpoint is not None
    qtbot.waitExposed(entry)
    field = entry.setpoint.field
    qtbot.waitUntil(entry.setpoint.isEnabled)
    assert field.selectedText() == field.text()  # typing replaces the shown value
    qtbot.keyClicks(field, "62")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: setpoint.entry is None)  # sent: closed
    qtbot.waitUntil(lambda: station.bridge.pending_writes == 0, timeout=LIVE_MS)
    after = [r for r in records(station) if r.action is AuditAction.WRITE][len(before) :]
    assert [(r.target_tag, r.new_value, r.origin) for r in after] == [
        ("LIC101.SP", 62.0, f"tank_farm/{setpoint.spec.id}")
    ]

    _run_async(qtbot, station.sessions.logout())
    log_in(qtbot, station, "viewer")
    qtbot.waitUntil(lambda: not setpoint.writable)
    assert first_line(setpoint).startswith("Not available: the role 'viewer' may not write")
    qtbot.mouseClick(setpoint, Qt.MouseButton.LeftButton)
    assert setpoint.entry is None


def test_a_state_value_opens_one_button_per_state(
    qtbot: QtBot, station: Station, plant_baseline: Any
) -> None:
    """XV101's command on the tank farm: the entry offers CLOSE and OPEN (its states); OPEN
    goes through the tag's confirmation (``confirm``), which Enter answers with Cancel."""
    canvas = shown(qtbot, station, "tank_farm")
    command = next(
        w for w in canvas.widgets() if isinstance(w, ValueWidget) and w.spec.tag == "XV101.OpenCmd"
    )
    qtbot.waitUntil(lambda: command.writable, timeout=LIVE_MS)
    entry = command.open_entry()
    assert isinstance(entry, ValueEntry) and entry.setpoint is None
    assert [b.text() for b in entry.state_buttons] == ["CLOSE", "OPEN"]
    qtbot.mouseClick(entry.state_buttons[1], Qt.MouseButton.LeftButton)
    confirmer = station.guard.confirmer
    qtbot.waitUntil(lambda: bool(confirmer.open_dialogs))  # type: ignore[union-attr]
    dialog = confirmer.open_dialogs[-1]  # type: ignore[union-attr]
    qtbot.waitExposed(dialog)
    assert dialog.windowTitle() == "Confirm change"
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter cancels
    qtbot.waitUntil(lambda: station.bridge.pending_writes == 0, timeout=LIVE_MS)
    record = [r for r in records(station) if r.action is AuditAction.WRITE][-1]
    assert (record.target_tag, record.result.value, record.origin) == (
        "XV101.OpenCmd", "cancelled", f"tank_farm/{command.spec.id or ''}",
    )  # fmt: skip
