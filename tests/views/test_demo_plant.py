"""The demo project on the demo plant (``hmi sim`` in its own process): values arrive over both
protocols on every screen, operator commands reach the plant and its feedback comes back, an
injected fault trips a pump, and the project's alarms run on the station's broker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from hmi.app import Station, build_station
from hmi.model.alarms.definitions import ConnectionAlarm, DigitalAlarm, Priority
from hmi.model.alarms.states import AlarmState
from hmi.model.screens.loader import Project
from hmi.runtime.alarms import AlarmEngineService
from hmi.views.screen_canvas import ScreenCanvas
from hmi.widgets.base import NO_VALUE
from hmi.widgets.value import ValueWidget
from tests.views.conftest import log_in, stop_station

LIVE_MS = 20000  # generous: the OPC UA session and first polls are slow on a loaded machine
PLANT_MS = 15000  # a pump's Running comes 2 s after its Run; Modbus polls every 250 ms
SCREENS = ("overview", "tank_farm", "pump_station", "diagnostics")


def click(qtbot: QtBot, widget: QWidget | None) -> None:
    assert widget is not None
    qtbot.waitUntil(widget.isEnabled, timeout=LIVE_MS)  # write buttons wait for a good value
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def shown(qtbot: QtBot, station: Station, screen_id: str) -> ScreenCanvas:
    window = station.window
    window.show()
    assert window.navigate(screen_id)
    canvas = window.canvas
    assert canvas is not None
    qtbot.waitUntil(lambda: canvas.isVisible() and canvas.scale > 0)
    return canvas


def number(widget: QWidget | None) -> bool:
    """A value widget showing a number (not ``----``, not a failed transmitter's NaN)."""
    assert isinstance(widget, ValueWidget)
    return widget.text()[:1].isdigit()


def values(canvas: ScreenCanvas) -> list[ValueWidget]:
    return [w for w in canvas.widgets() if isinstance(w, ValueWidget)]


def fresh(qtbot: QtBot, canvas: ScreenCanvas) -> None:
    """Wait for a fresh sample on this screen (some value changes), so the drivers have had
    a turn since it was built; leaving it sooner meets the bug of the xfail test below."""
    before = [w.text() for w in values(canvas)]
    qtbot.waitUntil(lambda: [w.text() for w in values(canvas)] != before, timeout=LIVE_MS)


def by_protocol(station: Station, canvas: ScreenCanvas) -> dict[str, list[ValueWidget]]:
    found: dict[str, list[ValueWidget]] = {"modbus": [], "opcua": []}
    for widget in canvas.widgets():
        if isinstance(widget, ValueWidget):
            scheme = station.project.tags[widget.binding.tag].address.scheme
            found[scheme].append(widget)
    return found


def test_values_arrive_from_both_protocols_on_every_screen(
    qtbot: QtBot,
    qloop: object,
    themed: None,
    plant_project: Project,
    plant_baseline: None,
    run_async: Callable[..., Any],
) -> None:
    station = build_station(plant_project, live_reload=False)
    qtbot.addWidget(station.window)
    canvas = station.window.canvas
    assert canvas is not None
    t1 = canvas.widget("val_level")  # Modbus unit 2, float32 input registers 4-5
    t2 = canvas.widget("val_t2_level")  # OPC UA ns=2;s=Plant.Treated.T2.Level
    assert isinstance(t1, ValueWidget) and isinstance(t2, ValueWidget)
    assert t1.binding.config is not None and t2.binding.config is not None
    assert t1.binding.config.address.scheme == "modbus"
    assert t2.binding.config.address.scheme == "opcua"
    assert (t1.text(), t2.text()) == (NO_VALUE, NO_VALUE)
    run_async(station.start())
    try:
        qtbot.waitUntil(lambda: number(t1) and number(t2), timeout=LIVE_MS)
        assert t1.text().endswith(" %") and t2.text().endswith(" %")
        assert (t1.property("quality"), t2.property("quality")) == ("good", "good")
        for screen_id in SCREENS:
            shown_canvas = shown(qtbot, station, screen_id)
            widgets = by_protocol(station, shown_canvas)
            assert widgets["modbus"] and widgets["opcua"], f"{screen_id} shows both protocols"
            every = (*widgets["modbus"], *widgets["opcua"])
            qtbot.waitUntil(lambda e=every: all(v.text() != NO_VALUE for v in e), timeout=LIVE_MS)
            fresh(qtbot, shown_canvas)
            assert any(number(w) for w in widgets["modbus"]), screen_id
            assert any(number(w) for w in widgets["opcua"]), screen_id
    finally:
        stop_station(qtbot, station)


def test_start_on_the_faceplate_runs_the_pump(qtbot: QtBot, station: Station) -> None:
    """Start on P102's faceplate: the command service writes its run coil over Modbus, the
    plant starts the pump, and its running feedback (Modbus) and current (OPC UA) come back."""
    canvas = shown(qtbot, station, "pump_station")
    state, current, starts = (canvas.widget(f"p102/{n}") for n in ("state", "current", "starts"))
    assert state is not None and isinstance(starts, ValueWidget)
    qtbot.waitUntil(lambda: state.text() == "STOPPED" and number(starts), timeout=LIVE_MS)
    before = int(starts.text())
    click(qtbot, canvas.widget("p102/faceplate"))
    popup = station.window.faceplates.get("pump_faceplate", {"pump": "P102"})
    assert popup is not None
    click(qtbot, popup.canvas.widget("start"))
    status = station.window.status.command_label
    qtbot.waitUntil(lambda: "P102.RunCmd" in status.text(), timeout=LIVE_MS)
    assert status.property("outcome") == "done", status.text()
    qtbot.waitUntil(lambda: state.text() == "RUNNING", timeout=PLANT_MS)
    assert state.property("look") == "active"
    qtbot.waitUntil(lambda: number(current) and float(current.text().split()[0]) > 5)
    qtbot.waitUntil(lambda: int(starts.text()) == before + 1, timeout=LIVE_MS)

    click(qtbot, popup.canvas.widget("stop"))
    qtbot.waitUntil(lambda: state.text() == "STOPPED", timeout=PLANT_MS)


def test_injected_trip_shows_on_the_pump(qtbot: QtBot, station: Station) -> None:
    """Trip P101 from the diagnostics screen's fault panel: the overview shows it stopped and
    faulted; Reset and Start on its faceplate bring it back."""
    log_in(qtbot, station, "engineer")  # fault injection is for engineers
    diagnostics = shown(qtbot, station, "diagnostics")
    click(qtbot, diagnostics.widget("trip_p101"))
    overview = shown(qtbot, station, "overview")
    fault, running = overview.widget("ind_p101_fault"), overview.widget("ind_p101")
    assert fault is not None and running is not None
    qtbot.waitUntil(lambda: fault.text() == "FAULT", timeout=PLANT_MS)
    assert fault.property("look") == "alarm"
    qtbot.waitUntil(lambda: running.text() == "STOPPED", timeout=PLANT_MS)

    station.window.open_faceplate("pump_faceplate", {"pump": "P101"})
    popup = station.window.faceplates.get("pump_faceplate", {"pump": "P101"})
    assert popup is not None
    click(qtbot, popup.canvas.widget("reset"))
    qtbot.waitUntil(lambda: fault.text() == "No fault", timeout=PLANT_MS)
    click(qtbot, popup.canvas.widget("start"))
    qtbot.waitUntil(lambda: running.text() == "RUNNING", timeout=PLANT_MS)


def test_momentary_commands_report_done(qtbot: QtBot, station: Station) -> None:
    status = station.window.status.command_label
    station.window.show()
    station.window.bridge.submit_write("P102.Reset", True, origin="test")
    qtbot.waitUntil(lambda: "P102.Reset" in status.text(), timeout=LIVE_MS)
    assert status.property("outcome") == "done", status.text()


def test_a_screen_left_and_shown_again_at_once_gets_its_values(
    qtbot: QtBot, station: Station
) -> None:
    diagnostics = shown(qtbot, station, "diagnostics")
    qtbot.waitUntil(lambda: all(w.text() != NO_VALUE for w in values(diagnostics)), timeout=LIVE_MS)
    shown(qtbot, station, "overview")
    diagnostics = shown(qtbot, station, "diagnostics")  # in the same turn of the event loop
    qtbot.waitUntil(lambda: all(w.text() != NO_VALUE for w in values(diagnostics)), timeout=2000)


def test_sensor_failure_shows_bad_quality_and_sheds_the_loop(
    qtbot: QtBot, station: Station
) -> None:
    """LT201 failed (injected over OPC UA from the fault panel): T2's level keeps its last
    value, marked Bad, and LIC101 sheds to MAN; cleared, the level is Good again."""
    log_in(qtbot, station, "engineer")
    diagnostics = shown(qtbot, station, "diagnostics")
    click(qtbot, diagnostics.widget("inject_lt201"))
    injected = diagnostics.widget("ind_fault_lt201")
    assert injected is not None
    qtbot.waitUntil(lambda: injected.text() == "ACTIVE", timeout=LIVE_MS)
    overview = shown(qtbot, station, "overview")
    level, mode = overview.widget("val_t2_level"), overview.widget("ind_lic101_mode")
    assert level is not None and mode is not None
    qtbot.waitUntil(lambda: level.property("quality") == "bad", timeout=LIVE_MS)
    assert number(level), "the last value stays visible, marked"
    qtbot.waitUntil(lambda: mode.text() == "MAN", timeout=LIVE_MS)
    fresh(qtbot, overview)

    diagnostics = shown(qtbot, station, "diagnostics")
    click(qtbot, diagnostics.widget("clear_lt201"))
    cleared = diagnostics.widget("ind_fault_lt201")
    assert cleared is not None
    qtbot.waitUntil(lambda: cleared.text() == "off", timeout=LIVE_MS)
    fresh(qtbot, diagnostics)
    overview = shown(qtbot, station, "overview")
    level = overview.widget("val_t2_level")
    assert level is not None
    qtbot.waitUntil(lambda: level.property("quality") == "good", timeout=LIVE_MS)


def test_the_alarm_database_is_complete_and_rationalised(demo_project: Project) -> None:
    alarms = {alarm.id: alarm for alarm in demo_project.alarms}
    assert {"T1.LevelHiHi", "T1.LevelHi", "T1.LevelLo", "T1.LevelLoLo", "T2.LevelHi"} <= set(alarms)
    assert {"P101.Trip", "P102.Trip", "LIC101.Deviation", "T1.RisingFast"} <= set(alarms)
    kinds = {alarm.kind for alarm in alarms.values()}
    assert kinds == {"hihi", "hi", "lo", "lolo", "digital", "deviation", "rate", "comm_loss"}
    assert {alarm.priority for alarm in alarms.values()} == set(Priority)
    for alarm in alarms.values():
        assert alarm.message.text and alarm.cause and alarm.consequence and alarm.action, alarm.id
    comm = [a.connection for a in alarms.values() if isinstance(a, ConnectionAlarm)]
    assert sorted(comm) == sorted(demo_project.file.connections), "one comm-loss per connection"
    assert {"PlantUA.CommLoss", "PlantMB.CommLoss"} <= set(alarms)  # written, not the defaults
    trips = {a.tag for a in alarms.values() if isinstance(a, DigitalAlarm) and a.equals is True}
    assert {"P101.Fault", "P102.Fault", "LT101.Failed", "LT201.Failed"} <= trips


def test_the_alarm_service_raises_the_pump_trip(
    qtbot: QtBot, station: Station, run_async: Callable[..., Any]
) -> None:
    """The project's alarms on the station's broker (the app does not wire them in yet): the
    plant in its normal state raises none; a P102 trip injected over Modbus raises P102.Trip
    with its message; acknowledged and reset on the plant, it returns to normal."""
    log_in(qtbot, station, "engineer")
    project = station.project
    service = AlarmEngineService(
        station.broker, project.alarms, settings=project.file.settings.alarms
    )
    run_async(service.start())
    try:
        broker = station.broker
        qtbot.waitUntil(
            lambda: all(broker.latest(tag).quality.is_good for tag in service.engine.tags),
            timeout=LIVE_MS,
        )
        assert [status.alarm_id for status in service.summary()] == []

        station.window.bridge.submit_write("Faults.P102Trip", True, origin="test")
        qtbot.waitUntil(
            lambda: service.status("P102.Trip").state is AlarmState.UNACK, timeout=PLANT_MS
        )
        (status,) = service.summary()
        assert status.alarm_id == "P102.Trip" and status.priority is Priority.HIGH
        assert status.message.startswith("Transfer pump P102 tripped (T1 ")
        assert status.cause and status.consequence and status.action
        assert service.counts().unacknowledged[Priority.HIGH] == 1

        service.acknowledge("P102.Trip", user="test")
        assert service.status("P102.Trip").state is AlarmState.ACKED
        station.window.bridge.submit_write("P102.Reset", True, origin="test")
        qtbot.waitUntil(
            lambda: service.status("P102.Trip").state is AlarmState.NORMAL, timeout=PLANT_MS
        )
        assert service.summary() == []
    finally:
        run_async(service.stop())
