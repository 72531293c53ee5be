"""Design mode at 1366x768: the screen keeps the operator view's scale while the panels are
collapsed to their tabs, the window never grows past the screen, the trend's tool bar row
keeps its buttons apart, and the Panels toggle is remembered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.screens.loader import Project
from hmi.views.designer.panels import PANELS_WIDTH
from hmi.views.designer.toolbar import DesignTools
from tests.views.designer.design_rig import trend_rows_apart


def test_design_mode_keeps_the_operator_scale(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project, artifacts: Path
) -> None:
    station = make_station(plant_project, screen="tank_farm", role="engineer")
    window = station.window
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    canvas = window.canvas
    assert canvas is not None
    qtbot.waitUntil(lambda: canvas.scale > 0)
    operator = canvas.scale
    design = station.design
    assert design is not None and design.enter()
    qtbot.waitUntil(lambda: design.editor is not None and design.panels is not None)
    assert design.editor is not None and design.panels is not None
    panels = design.panels
    assert not design.tools.panels.isChecked() and not panels.expanded
    qtbot.waitUntil(lambda: abs(design.editor.canvas.scale - operator) < 1e-9, timeout=3000)  # type: ignore[union-attr]
    assert window.width() == 1366 and window.height() == 768
    assert panels.width() < 40 and panels.isVisible()  # only the tabs, in the side margin
    assert not window.nav.isVisible()  # its row is the design tool bar's
    assert trend_rows_apart(station)
    # opened: beside the screen, which scales into the rest; the window stays as it was
    design.tools.panels.setChecked(True)
    qtbot.waitUntil(lambda: panels.width() == PANELS_WIDTH)
    qtbot.waitUntil(lambda: design.editor.canvas.scale < operator)  # type: ignore[union-attr]
    assert window.width() == 1366 and window.height() == 768
    top = panels.mapTo(window, panels.rect().topLeft()).y()
    assert top > window.header.mapTo(window, window.header.rect().bottomLeft()).y()  # below it
    assert trend_rows_apart(station)
    assert DesignTools.settings().value("panels", type=bool) is True  # remembered
    panels.tabBarClicked.emit(panels.currentIndex())  # a click on the open tab collapses
    assert not panels.expanded and not design.tools.panels.isChecked()
    assert DesignTools.settings().value("panels", type=bool) is False
    qtbot.waitUntil(lambda: abs(design.editor.canvas.scale - operator) < 1e-9, timeout=3000)  # type: ignore[union-attr]
    assert window.grab().save(str(artifacts / "design_mode_collapsed.png"))
    design.leave()
    assert window.nav.isVisible() and window.side_panel is None
