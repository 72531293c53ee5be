"""Live reload on a copy of the demo project, with real files and the real watcher: a valid
edit rebuilds the screen in place, an invalid one is reported as file:line:col while the last
good screen stays, fixing it clears the report; a newly listed screen is watched from the
moment project.yaml lists it, even while it has errors, and an unlisted one no longer is."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.screens.loader import load_project
from hmi.views.main_window import MainWindow

PROBE = """
  - {type: label, id: %s, text: Added by live reload, rect: [1500, 1000, 380, 40]}
"""
LOCATION = re.compile(r"overview\.yaml:\d+:\d+: ")
LISTING = "\nscreens:\n"
NEW_SCREEN = """screen: {id: wells, title: Wells, parent: overview}
widgets:
  - {type: label, id: heading, text: Wells, rect: [20, 20, 400, 40]}
  - {type: value, id: level, tag: T1.Level, rect: [20, 80, 200, 40]}
"""


def no_problems(window: MainWindow) -> bool:
    return not window.reload_problems.problems and window.reload_problems.mark.isHidden()


def running(qtbot: QtBot, make_station: Callable[..., Station], folder: Path) -> Station:
    """The station on ``folder``, an engineer logged in (they see live reload's problems)."""
    station = make_station(load_project(folder), live_reload=True, role="engineer")
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
    assert not window.reload_problems.problems
    rebuilt = window.canvas

    # (b) an invalid edit: the error with file:line:col, and the last good screen stays
    broken = good.replace("rect: [20, 392, 312, 44]", "rect: [20, 392, 312]", 1)
    assert broken != good
    screen_file.write_text(broken + PROBE % "probe_a", encoding="utf-8")
    qtbot.waitUntil(window.reload_problems.panel.isVisible, timeout=5000)
    assert LOCATION.search(window.reload_problems.text()), window.reload_problems.text()
    assert str(screen_file) in window.reload_problems.text()
    assert window.canvas is rebuilt
    window.grab().save(str(artifacts / "reload_error.png"))
    assert window.canvas.widget("probe_a") is not None

    # (c) fixed: the strip goes away
    screen_file.write_text(good + PROBE % "probe_c", encoding="utf-8")
    qtbot.waitUntil(lambda: no_problems(window), timeout=5000)
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
    qtbot.waitUntil(window.reload_problems.panel.isVisible, timeout=5000)
    assert LOCATION.search(window.reload_problems.text()), window.reload_problems.text()
    screen_file.write_text(good, encoding="utf-8")
    qtbot.waitUntil(lambda: no_problems(window), timeout=5000)


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
    qtbot.waitUntil(window.reload_problems.panel.isVisible, timeout=5000)
    assert "restart" in window.reload_problems.text()
    assert not window.reload_problems.problems
    assert window.reload_problems.mark.property("kind") == "notice"
    assert window.current_screen_id == "overview"


def test_a_newly_listed_screen_is_watched_while_it_has_errors(
    qtbot: QtBot, make_station: Callable[..., Station], project_copy: Path
) -> None:
    """Issue 19, item 7: list a broken new screen, then fix only the screen file; the fix is
    seen without saving project.yaml again. Unlisting it stops watching it."""
    station = running(qtbot, make_station, project_copy)
    window = station.window
    assert window.live_reload is not None
    project_file = project_copy / "project.yaml"
    listed = project_file.read_text(encoding="utf-8")
    new_file = project_copy / "wells.yaml"
    new_file.write_text(NEW_SCREEN.replace("T1.Level", "T1.Levle"), encoding="utf-8")
    assert str(new_file) not in window.live_reload.watched_files()

    with_wells = listed.replace(LISTING, LISTING + "  - wells.yaml\n", 1)
    assert with_wells != listed, "the demo's screens: list is not where expected"
    project_file.write_text(with_wells, encoding="utf-8")
    qtbot.waitUntil(lambda: "wells.yaml:4:" in window.reload_problems.text(), timeout=5000)
    assert "T1.Levle" in window.reload_problems.text()
    assert str(new_file) in window.live_reload.watched_files()
    assert "wells" not in window.project.screens
    assert window.current_screen_id == "overview"

    new_file.write_text(NEW_SCREEN, encoding="utf-8")  # only the screen file is saved
    qtbot.waitUntil(lambda: "wells" in window.project.screens, timeout=5000)
    qtbot.waitUntil(lambda: no_problems(window), timeout=5000)
    assert window.navigate("wells")
    assert window.canvas.widget("level") is not None

    # a later edit of the new screen reloads it like any other
    new_file.write_text(NEW_SCREEN.replace("text: Wells,", "text: Well field,"), encoding="utf-8")
    qtbot.waitUntil(lambda: window.canvas.widget("heading").text() == "Well field", timeout=5000)

    assert window.navigate("overview")
    project_file.write_text(listed, encoding="utf-8")
    qtbot.waitUntil(lambda: "wells" not in window.project.screens, timeout=5000)
    assert str(new_file) not in window.live_reload.watched_files()
    assert str(project_copy / "overview.yaml") in window.live_reload.watched_files()


def test_a_listed_file_that_does_not_exist_yet_is_seen_when_it_appears(
    qtbot: QtBot, make_station: Callable[..., Station], project_copy: Path
) -> None:
    station = running(qtbot, make_station, project_copy)
    window = station.window
    project_file = project_copy / "project.yaml"
    project_file.write_text(
        project_file.read_text(encoding="utf-8").replace(LISTING, LISTING + "  - wells.yaml\n"),
        encoding="utf-8",
    )
    qtbot.waitUntil(lambda: "does not exist" in window.reload_problems.text(), timeout=5000)
    (project_copy / "wells.yaml").write_text(NEW_SCREEN, encoding="utf-8")
    qtbot.waitUntil(lambda: "wells" in window.project.screens, timeout=5000)
    qtbot.waitUntil(lambda: no_problems(window), timeout=5000)
