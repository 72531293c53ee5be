"""Every screen and faceplate of the demo project, rendered offscreen with live values from the
demo plant over OPC UA and Modbus; one PNG each in artifacts/screens/ for a human to look at."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from hmi.app import Station, build_station
from hmi.model.screens.loader import Project, check_project
from hmi.model.screens.templates import trended_tags
from hmi.views.screen_canvas import ScreenCanvas
from hmi.widgets.base import NO_VALUE
from hmi.widgets.value import DESIGN_FONT_PX as VALUE_FONT_PX
from hmi.widgets.value import ValueWidget
from tests.views.conftest import stop_station

DEMO = Path(__file__).resolve().parents[2] / "screens"
DEMO_SCREENS = ("overview", "tank_farm", "pump_station", "diagnostics")
FACEPLATES = {
    "pump_faceplate": {"pump": "P101"},
    "valve_faceplate": {"valve": "XV101"},
    "pid_faceplate": {"loop": "LIC101"},
}


LIVE_MS = 20000  # the first values: OPC UA session and subscription, first Modbus poll


def values(canvas: ScreenCanvas) -> list[ValueWidget]:
    return [w for w in canvas.widgets() if isinstance(w, ValueWidget)]


def live(canvas: ScreenCanvas) -> bool:
    shown = values(canvas)
    return bool(shown) and all(w.text() != NO_VALUE for w in shown)


def settle() -> None:
    """Deliver queued layout requests and paints, so a grab shows the final layout."""
    QApplication.sendPostedEvents()
    QApplication.processEvents()


def assert_inside(canvas: ScreenCanvas) -> None:
    """Every widget lies inside its parent (nothing cut off by a group or the stage)."""
    for widget in canvas.widgets():
        parent = widget.parentWidget()
        assert isinstance(parent, QWidget)
        inside = parent.rect().adjusted(-1, -1, 1, 1).contains(widget.geometry())
        name = widget.objectName() or type(widget).__name__
        assert inside, f"{name} {widget.geometry()} sticks out of {parent.rect()}"


def test_demo_project_is_valid() -> None:
    assert [str(problem) for problem in check_project(DEMO)] == []


def test_demo_project_has_every_level(demo_project: Project) -> None:
    assert set(DEMO_SCREENS) <= set(demo_project.screens)
    levels = {screen.screen.level for screen in demo_project.screens.values()}
    assert levels == {1, 2, 4}
    assert set(FACEPLATES) <= set(demo_project.templates)


@pytest.mark.parametrize("screen_id", DEMO_SCREENS)
def test_screen_renders_with_live_values(
    qtbot: QtBot, station: Station, artifacts: Path, screen_id: str
) -> None:
    window = station.window
    window.resize(1920, 1080)
    window.show()
    qtbot.waitExposed(window)
    assert window.navigate(screen_id)
    canvas = window.canvas
    assert canvas is not None
    qtbot.waitUntil(lambda: canvas.isVisible() and canvas.scale > 0)
    before = [w.text() for w in values(canvas)]
    assert before, f"{screen_id} shows no values"
    qtbot.waitUntil(lambda: live(canvas), timeout=LIVE_MS)
    number = next(w.text() for w in values(canvas) if w.text()[:1].isdigit())
    assert number != NO_VALUE
    assert_inside(canvas)
    settle()
    assert window.grab().save(str(artifacts / f"{screen_id}.png"))


def test_screen_keeps_aspect_in_a_smaller_window(
    qtbot: QtBot, station: Station, artifacts: Path
) -> None:
    window = station.window
    window.resize(1280, 1000)
    window.show()
    qtbot.waitExposed(window)
    canvas = window.canvas
    assert canvas is not None
    qtbot.waitUntil(lambda: canvas.width() > 0 and canvas.scale > 0)
    qtbot.waitUntil(lambda: live(canvas), timeout=LIVE_MS)
    x, y, w, h = canvas.stage_rect()
    assert abs(w / h - 1920 / 1080) < 0.01
    assert (x, w) == (0, canvas.width())  # width-bound: letterboxed above and below
    assert abs(y - (canvas.height() - h - y)) <= 1
    assert canvas.scale == pytest.approx(w / 1920, rel=0.01)
    assert_inside(canvas)
    settle()
    assert window.grab().save(str(artifacts / "overview_1280x1000.png"))


@pytest.mark.parametrize("template_id", sorted(FACEPLATES))
def test_faceplate_renders(
    qtbot: QtBot, station: Station, artifacts: Path, template_id: str
) -> None:
    window = station.window
    window.show()
    window.open_faceplate(template_id, FACEPLATES[template_id])
    popup = window.faceplates.get(template_id, FACEPLATES[template_id])
    assert popup is not None
    qtbot.waitExposed(popup)
    size = station.project.templates[template_id].template.size
    assert (popup.width(), popup.height()) == size
    assert popup.canvas.scale == pytest.approx(1.0)
    qtbot.waitUntil(lambda: live(popup.canvas), timeout=LIVE_MS)
    assert_inside(popup.canvas)
    settle()
    assert popup.grab().save(str(artifacts / f"faceplate_{template_id}.png"))
    popup.close()


def test_fonts_follow_the_scale_after_values_arrive(qtbot: QtBot, station: Station) -> None:
    window = station.window
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    assert window.navigate("diagnostics")
    canvas = window.canvas
    assert canvas is not None
    qtbot.waitUntil(lambda: canvas.isVisible() and canvas.scale > 0)
    qtbot.waitUntil(lambda: live(canvas), timeout=LIVE_MS)  # every quality changed once
    expected = round(VALUE_FONT_PX * canvas.scale)
    assert {w.font().pixelSize() for w in values(canvas)} == {expected}


def test_values_start_unknown_and_go_live(
    qtbot: QtBot,
    qloop: object,
    themed: None,
    plant_project: Project,
    run_async: Callable[..., Any],
) -> None:
    """Before the drivers run, every value reads ``----`` (never a made-up number); once they
    run, numbers arrive."""
    station = build_station(plant_project, live_reload=False)
    qtbot.addWidget(station.window)
    canvas = station.window.canvas
    assert canvas is not None
    assert {w.text() for w in values(canvas)} == {NO_VALUE}
    run_async(station.start())
    try:
        qtbot.waitUntil(lambda: live(canvas), timeout=LIVE_MS)
        assert any(w.text()[:1].isdigit() for w in values(canvas))
    finally:
        stop_station(qtbot, station)


def test_the_station_records_the_trended_tags(qtbot: QtBot, station: Station) -> None:
    """The historian records every tag some trend shows (trends backfill from it)."""
    recorder = station.history.recorder
    assert recorder is not None, "the historian database opened"
    trended = trended_tags(station.project.screens.values(), station.project.templates)
    assert trended, "the demo has trends"
    assert trended <= set(recorder.tags)
