"""Engineering errors are not the operator's (issue 19, item 8): a broken screen file leaves the
operator's screen as it was, with a quiet mark in the status bar; engineers and admins see the
problems; the view follows whoever logs in and out, and nothing on the canvas moves."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect, Qt
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.screens.loader import load_project
from hmi.views.main_window import MainWindow
from tests.views.conftest import _run_async, log_in

LOCATION = re.compile(r"overview\.yaml:\d+:\d+: ")


def running(qtbot: QtBot, make_station: Callable[..., Station], folder: Path) -> Station:
    """The station on ``folder``, shown, an operator logged in."""
    station = make_station(load_project(folder), live_reload=True, role="operator")
    station.window.resize(1280, 800)
    station.window.show()
    qtbot.waitExposed(station.window)
    return station


def geometry(window: MainWindow) -> tuple[QRect, QRect, QRect]:
    """Where the screen sits: its area, the canvas, and the canvas's first widget."""
    assert window.canvas is not None
    first = next(iter(window.canvas.widgets()))
    return window.screen_area.geometry(), window.canvas.geometry(), first.geometry()


def test_operator_keeps_the_screen_engineer_sees_the_problems(
    qtbot: QtBot, make_station: Callable[..., Station], project_copy: Path, artifacts: Path
) -> None:
    station = running(qtbot, make_station, project_copy)
    window = station.window
    view = window.reload_problems
    before = geometry(window)
    canvas = window.canvas
    assert view.mark.isHidden()

    screen_file = project_copy / "overview.yaml"
    good = screen_file.read_text(encoding="utf-8")
    broken = good.replace("rect: [20, 392, 312, 44]", "rect: [20, 392, 312]", 1)
    assert broken != good
    screen_file.write_text(broken, encoding="utf-8")

    # the operator: the same screen, in the same place; a quiet mark, no file names
    qtbot.waitUntil(view.mark.isVisible, timeout=5000)
    assert LOCATION.search(view.text()), view.text()
    assert view.mark.text() == "screen changes not applied"
    assert "overview.yaml" not in view.mark.text() + view.mark.toolTip()
    assert view.mark.property("engineer") is False
    assert view.panel.isHidden()
    assert window.canvas is canvas
    assert geometry(window) == before
    qtbot.mouseClick(view.mark, Qt.MouseButton.LeftButton)  # the mark opens nothing for them
    assert view.panel.isHidden()
    window.grab().save(str(artifacts / "reload_problems_operator.png"))

    # an engineer logs in: the count in the mark and the list over the window
    log_in(qtbot, station, "engineer")
    qtbot.waitUntil(view.panel.isVisible, timeout=5000)
    assert view.mark.text() == "⚠ 1 screen-file problem"
    assert view.mark.property("engineer") is True
    assert LOCATION.search(view.panel.text.toPlainText())
    assert str(screen_file) in view.panel.text.toPlainText()
    assert geometry(window) == before
    panel = view.panel.geometry()
    assert window.centralWidget().rect().contains(panel)
    central = window.centralWidget()
    corner = (central.width() - panel.right(), central.height() - panel.bottom())
    window.resize(1500, 900)  # the panel keeps to the bottom right corner
    qtbot.waitUntil(lambda: central.width() == 1500)
    moved = view.panel.geometry()
    assert (central.width() - moved.right(), central.height() - moved.bottom()) == corner
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: view.panel.geometry() == panel)
    window.grab().save(str(artifacts / "reload_problems_engineer.png"))
    qtbot.mouseClick(view.panel.close_button, Qt.MouseButton.LeftButton)
    assert view.panel.isHidden()
    qtbot.mouseClick(view.mark, Qt.MouseButton.LeftButton)
    assert view.panel.isVisible()

    # logged out: the list is gone, the mark is quiet again
    _run_async(qtbot, station.sessions.logout(reason="test"))
    qtbot.waitUntil(view.panel.isHidden, timeout=5000)
    assert view.mark.isVisible()
    assert view.mark.text() == "screen changes not applied"
    assert geometry(window) == before
    window.grab().save(str(artifacts / "reload_problems_logged_out.png"))

    # an administrator holds edit_config too
    log_in(qtbot, station, "admin")
    qtbot.waitUntil(view.panel.isVisible, timeout=5000)

    # fixed: mark and panel go, the screen is rebuilt where it was
    screen_file.write_text(good, encoding="utf-8")
    qtbot.waitUntil(view.mark.isHidden, timeout=5000)
    assert view.panel.isHidden()
    qtbot.waitUntil(lambda: window.canvas is not canvas, timeout=5000)
    assert geometry(window) == before


def test_a_restart_notice_is_the_engineers_alone(
    qtbot: QtBot, make_station: Callable[..., Station], project_copy: Path
) -> None:
    station = running(qtbot, make_station, project_copy)
    window = station.window
    view = window.reload_problems
    project_file = project_copy / "project.yaml"
    text = project_file.read_text(encoding="utf-8")
    project_file.write_text(
        text.replace("opc.tcp://127.0.0.1:4840/", "opc.tcp://127.0.0.1:4841/"), encoding="utf-8"
    )
    qtbot.waitUntil(lambda: "restart" in view.text(), timeout=5000)
    assert view.mark.isHidden()  # hidden from the operator, screens already updated
    log_in(qtbot, station, "engineer")
    qtbot.waitUntil(view.mark.isVisible, timeout=5000)
    assert view.mark.text() == "restart needed"
    assert "restart" in view.panel.text.toPlainText()
