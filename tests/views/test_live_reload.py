"""Live reload on a copy of the demo project: a valid edit rebuilds the screen in place, an
invalid one shows file:line:col above the last good screen, fixing it clears the strip."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.loader import load_project

PROBE = """
  - {type: label, id: %s, text: Added by live reload, rect: [1500, 1000, 380, 40]}
"""
LOCATION = re.compile(r"overview\.yaml:\d+:\d+: ")


def running(qtbot: QtBot, make_station: Callable[..., Station], folder: Path) -> Station:
    station = make_station(load_project(folder), live_reload=True)
    station.window.resize(1280, 800)
    station.window.show()
    qtbot.waitExposed(station.window)
    return station


def test_edit_bad_edit_fix_and_atomic_replace(
    qtbot: QtBot, make_station: Callable[..., Station], project_copy: Path, artifacts: Path
) -> None:
    station = running(qtbot, make_station, project_copy)
    window = station.window
    screen_file = project_copy / "overview.yaml"
    good = screen_file.read_text(encoding="utf-8")

    # (a) a valid edit: the screen is rebuilt in place with the new widget
    screen_file.write_text(good + PROBE % "probe_a", encoding="utf-8")
    qtbot.waitUntil(lambda: window.canvas.widget("probe_a") is not None, timeout=5000)
    assert window.current_screen_id == "overview"
    assert window.reload_error.isHidden()
    rebuilt = window.canvas

    # (b) an invalid edit: the error with file:line:col, and the last good screen stays
    broken = good.replace("rect: [20, 392, 312, 44]", "rect: [20, 392, 312]", 1)
    assert broken != good
    screen_file.write_text(broken + PROBE % "probe_a", encoding="utf-8")
    qtbot.waitUntil(window.reload_error.isVisible, timeout=5000)
    assert LOCATION.search(window.reload_error.text()), window.reload_error.text()
    assert str(screen_file) in window.reload_error.text()
    assert window.canvas is rebuilt
    window.grab().save(str(artifacts / "reload_error.png"))
    assert window.canvas.widget("probe_a") is not None

    # (c) fixed: the strip goes away
    screen_file.write_text(good + PROBE % "probe_c", encoding="utf-8")
    qtbot.waitUntil(window.reload_error.isHidden, timeout=5000)
    qtbot.waitUntil(lambda: window.canvas.widget("probe_c") is not None, timeout=5000)

    # (d) an editor's save: write a temporary file, rename it over the screen file
    temporary = project_copy / ".overview.yaml.swp"
    temporary.write_text(good + PROBE % "probe_d", encoding="utf-8")
    os.replace(temporary, screen_file)
    qtbot.waitUntil(lambda: window.canvas.widget("probe_d") is not None, timeout=5000)
    assert str(screen_file) in window.live_reload.watched_files()

    # ... and the file is still watched after the rename
    screen_file.write_text(good + PROBE % "probe_e", encoding="utf-8")
    qtbot.waitUntil(lambda: window.canvas.widget("probe_e") is not None, timeout=5000)


def test_syntax_error_names_the_place(
    qtbot: QtBot, make_station: Callable[..., Station], project_copy: Path
) -> None:
    station = running(qtbot, make_station, project_copy)
    window = station.window
    screen_file = project_copy / "overview.yaml"
    good = screen_file.read_text(encoding="utf-8")
    screen_file.write_text(good + "  - {type: label, text: [unclosed\n", encoding="utf-8")
    qtbot.waitUntil(window.reload_error.isVisible, timeout=5000)
    assert LOCATION.search(window.reload_error.text()), window.reload_error.text()
    screen_file.write_text(good, encoding="utf-8")
    qtbot.waitUntil(window.reload_error.isHidden, timeout=5000)


def test_template_edit_rebuilds_instances_and_open_faceplates(
    qtbot: QtBot, make_station: Callable[..., Station], project_copy: Path
) -> None:
    station = running(
        qtbot,
        make_station,
        project_copy,
    )
    window = station.window
    assert window.navigate("pump_station")
    window.open_faceplate("pump_faceplate", {"pump": "P101"})
    tile = project_copy / "templates" / "pump_tile.yaml"
    tile.write_text(
        tile.read_text(encoding="utf-8").replace("text: Motor current", "text: Motor amps"),
        encoding="utf-8",
    )
    texts = lambda: [w.text() for w in window.canvas.widgets() if hasattr(w, "text")]  # noqa: E731
    qtbot.waitUntil(lambda: "Motor amps" in texts(), timeout=5000)
    assert window.current_screen_id == "pump_station"

    plate = project_copy / "templates" / "pump_faceplate.yaml"
    plate.write_text(
        plate.read_text(encoding="utf-8").replace("text: Stop", "text: Stop pump"),
        encoding="utf-8",
    )
    popup = window.faceplates.get("pump_faceplate", {"pump": "P101"})
    assert popup is not None
    qtbot.waitUntil(lambda: popup.canvas.widget("stop").text() == "Stop pump", timeout=5000)


def test_connection_change_asks_for_a_restart(
    qtbot: QtBot, make_station: Callable[..., Station], project_copy: Path
) -> None:
    station = running(qtbot, make_station, project_copy)
    window = station.window
    project_file = project_copy / "project.yaml"
    text = project_file.read_text(encoding="utf-8")
    project_file.write_text(
        text.replace("opc.tcp://127.0.0.1:4840/", "opc.tcp://127.0.0.1:4841/"),
        encoding="utf-8",
    )
    qtbot.waitUntil(window.reload_error.isVisible, timeout=5000)
    assert "restart" in window.reload_error.text()
    assert window.reload_error.property("kind") == "notice"
    assert window.current_screen_id == "overview"
