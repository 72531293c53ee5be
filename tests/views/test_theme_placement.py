"""Where the theme's style sheet is in a running station: on every window and on the chrome
beside the way to the screen, never on the application, and no screen widget is drawn through
Qt's style-sheet style (hmi.widgets.theme.chrome), in the operator view, the designer and the
secondary views alike."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from hmi.app import Station
from hmi.model.screens.loader import Project
from hmi.views.screen_canvas import ScreenCanvas
from hmi.widgets.dialog import OperatorDialog
from tests.widgets.test_theme import COMPOUND, inside, styled_by_sheet

from .designer.design_rig import designing


def check(window: QWidget, canvas: ScreenCanvas) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication) and app.styleSheet() == ""
    screen = canvas.findChildren(QWidget)
    assert len(screen) > 20
    drawn_by_sheet = [
        type(w).__name__ for w in screen if styled_by_sheet(w) and not inside(w, COMPOUND)
    ]
    assert not drawn_by_sheet, drawn_by_sheet
    assert not styled_by_sheet(canvas) and not canvas.styleSheet()
    way = {id(w) for w in (window, window.centralWidget(), window.screen_area)}  # type: ignore[attr-defined]
    assert all(not styled_by_sheet(w) for w in (window, window.centralWidget()))
    chrome = [
        w
        for w in window.findChildren(QWidget)
        if id(w) not in way and not isinstance(w, ScreenCanvas) and not inside(w, ("ScreenCanvas",))
        and w.isVisible()
    ]  # fmt: skip
    plain = [f"{type(w).__name__}#{w.objectName()}" for w in chrome if not styled_by_sheet(w)]
    assert not plain, plain


def test_operator_view_chrome_styled_screen_not(qtbot: QtBot, station: Station) -> None:
    window = station.window
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    assert window.navigate("tank_farm")
    assert window.canvas is not None
    check(window, window.canvas)
    for name in ("header", "nav", "status"):
        assert getattr(window, name).styleSheet(), name
    summary = window.show_alarm_summary() or window.alarm_summary
    assert summary is not None and styled_by_sheet(summary)


def test_design_mode_tools_and_panels_styled_screen_not(
    qtbot: QtBot, make_station: Callable[..., Station], plant_project: Project
) -> None:
    d = designing(qtbot, make_station, plant_project, screen="tank_farm")
    window = d.station.window
    assert d.design.tools.bar.styleSheet()
    assert d.editor is not None
    check(window, d.editor.canvas)


def test_every_dialog_wears_the_sheet(qtbot: QtBot, station: Station) -> None:
    dialog = OperatorDialog(None)
    qtbot.addWidget(dialog)
    assert dialog.styleSheet() and styled_by_sheet(dialog)
